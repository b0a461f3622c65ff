package duration

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{`"15m"`, 15 * time.Minute, false},
		{`"4h30m"`, 4*time.Hour + 30*time.Minute, false},
		{`900000000000`, 15 * time.Minute, false}, // nanoseconds, as Caddy reads numbers
		{`"soon"`, 0, true},
		{`1.5`, 0, true},
		{`true`, 0, true},
	}
	for _, tt := range tests {
		var d Duration
		err := json.Unmarshal([]byte(tt.in), &d)
		if (err != nil) != tt.wantErr || time.Duration(d) != tt.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v (error %v)", tt.in, time.Duration(d), err, tt.want, tt.wantErr)
		}
		if err == nil {
			b, _ := json.Marshal(d)
			var back Duration
			if json.Unmarshal(b, &back) != nil || back != d {
				t.Errorf("round trip of %s through %s gave %v", tt.in, b, time.Duration(back))
			}
		}
	}
}
