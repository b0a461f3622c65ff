package ascii

import "testing"

// TestOnly: the eight-byte steps and the tail.
func TestOnly(t *testing.T) {
	for in, want := range map[string]bool{"": true, "abc": true, "abcdefgh": true, "abcdefgh\x80": false, "\xff": false, "abcdefg\xc3\xa9": false} {
		if Only(in) != want {
			t.Errorf("Only(%q) != %v", in, want)
		}
	}
}
