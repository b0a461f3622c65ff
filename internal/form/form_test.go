package form

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestScanURLEncoded(t *testing.T) {
	tests := []struct {
		name, in string
		want     url.Values
	}{
		{"ampersands", "a=1&b=2&a=3", url.Values{"a": {"1", "3"}, "b": {"2"}}},
		{"semicolons_as_cgi_pm", "username=admin;password=x%3By", url.Values{"username": {"admin"}, "password": {"x;y"}}},
		{"encoded_names", "user%6Eame=admin&pass+word=a+b", url.Values{"username": {"admin"}, "pass word": {"a b"}}},
		{"bad_escapes_kept", "a=%zz&%g=1", url.Values{"a": {"%zz"}, "%g": {"1"}}},
		{"empty_pairs_and_no_value", "&&a&=x&b=", url.Values{"a": {""}, "b": {""}}},
		{"value_with_equals", "a=b=c", url.Values{"a": {"b=c"}}},
		{"utf8", "q=%E6%97%A5%E6%9C%AC", url.Values{"q": {"日本"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := url.Values{}
			if err := ScanURLEncoded(strings.NewReader(tt.in), nil, 0, 1<<20, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScanURLEncodedLimitsAndFilter(t *testing.T) {
	got := url.Values{}
	in := "keep=" + strings.Repeat("v", 50) + "&drop=1&" + strings.Repeat("k", 40) + "=long"
	err := ScanURLEncoded(strings.NewReader(in), func(n string) bool { return n != "drop" }, 16, 10, got)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"keep": {strings.Repeat("v", 10)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func FuzzScanURLEncoded(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "a=%zz;b", "%", "=", "&;&;", "a=%E6%97"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := url.Values{}
		if err := ScanURLEncoded(strings.NewReader(s), nil, 64, 64, out); err != nil {
			t.Fatal(err)
		}
		for k, vs := range out {
			for _, v := range vs {
				if len(v) > 64 {
					t.Fatalf("value of %q longer than the limit: %d", k, len(v))
				}
			}
		}
	})
}
