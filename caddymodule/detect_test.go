package caddymodule

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/detect"
	"github.com/mamori-waf/mamori/internal/waf"
)

func TestDetectionOption(t *testing.T) {
	tests := []struct {
		name, input string
		want        detect.Options
		wantErr     string
	}{
		{name: "default_is_all_on", input: "mamori {\n}", want: detect.Options{}},
		{name: "off", input: "mamori {\n\tdetection off\n}", want: detect.Options{Off: true}},
		{name: "on", input: "mamori {\n\tdetection on\n}", want: detect.Options{}},
		{name: "layers", input: "mamori {\n\tdetection {\n\t\tdecode off\n\t\tplacements on\n\t\ttext_gate off\n\t\tsignatures off\n\t\tpromote off\n\t}\n}",
			want: detect.Options{Decode: boolPtr(false), Placements: boolPtr(true), TextGate: boolPtr(false), Signatures: boolPtr(false), Promote: boolPtr(false)}},
		// Issue 15: the README's one-line form.
		{name: "one_line", input: "mamori {\n\tdetection decode off  placements on  signatures on  promote on  text_gate on\n}",
			want: detect.Options{Decode: boolPtr(false), Placements: boolPtr(true), Signatures: boolPtr(true), Promote: boolPtr(true), TextGate: boolPtr(true)}},
		{name: "one_line_missing_value", input: "mamori {\n\tdetection decode off placements\n}", wantErr: "Testfile:2"},
		{name: "one_line_unknown_layer", input: "mamori {\n\tdetection decode off gate on\n}", wantErr: `unknown detection layer "gate"`},
		{name: "pairs_on_a_block_line", input: "mamori {\n\tdetection {\n\t\tdecode off promote off\n\t}\n}",
			want: detect.Options{Decode: boolPtr(false), Promote: boolPtr(false)}},
		{name: "inside_crs_block", input: "mamori {\n\tcrs {\n\t\tdetection off\n\t}\n}", want: detect.Options{Off: true}},
		{name: "bad_value", input: "mamori {\n\tdetection maybe\n}", wantErr: `detection must be on, off, layer settings or a block, not "maybe", at Testfile:2`},
		{name: "unknown_layer", input: "mamori {\n\tdetection {\n\t\tdecoding off\n\t}\n}", wantErr: `unknown detection layer "decoding" (decode, placements, signatures, promote, text_gate), at Testfile:3`},
		{name: "layer_needs_on_off", input: "mamori {\n\tdetection {\n\t\tdecode yes\n\t}\n}", wantErr: `detection decode must be on or off, not "yes", at Testfile:3`},
		{name: "layer_one_value", input: "mamori {\n\tdetection {\n\t\tdecode\n\t}\n}", wantErr: "Testfile:3"},
		{name: "both_forms", input: "mamori {\n\tdetection off {\n\t\tdecode on\n\t}\n}", wantErr: "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parse(tc.input)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h.WAF.Detection, tc.want) {
				t.Errorf("detection %+v, want %+v", h.WAF.Detection, tc.want)
			}
			// The configuration compiles: the layers load with CRS.
			if _, err := waf.Compile(h.WAF); err != nil {
				t.Errorf("compile: %v", err)
			}
		})
	}
}
