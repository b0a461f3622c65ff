package waf

import (
	"slices"
	"strings"
	"testing"
)

func TestWithDefaults(t *testing.T) {
	t.Run("zero_config_gets_crs_defaults", func(t *testing.T) {
		c := Config{}.WithDefaults()
		if c.Mode != ModeBlock {
			t.Errorf("Mode = %q, want %q", c.Mode, ModeBlock)
		}
		checks := []struct {
			name      string
			got, want int64
		}{
			{"ParanoiaLevel", int64(c.ParanoiaLevel), DefaultParanoiaLevel},
			{"DetectionParanoiaLevel", int64(c.DetectionParanoiaLevel), DefaultParanoiaLevel},
			{"InboundThreshold", int64(c.InboundThreshold), DefaultInboundThreshold},
			{"OutboundThreshold", int64(c.OutboundThreshold), DefaultOutboundThreshold},
			{"RequestBodyLimit", c.RequestBodyLimit, DefaultRequestBodyLimit},
			{"RequestBodyInMemoryLimit", c.RequestBodyInMemoryLimit, DefaultRequestBodyInMemoryLimit},
			{"ResponseBodyLimit", c.ResponseBodyLimit, DefaultResponseBodyLimit},
		}
		for _, ck := range checks {
			if ck.got != ck.want {
				t.Errorf("%s = %d, want %d", ck.name, ck.got, ck.want)
			}
		}
		if c.InspectResponseBody == nil || !*c.InspectResponseBody {
			t.Errorf("InspectResponseBody = %v, want true", c.InspectResponseBody)
		}
		if c.RegexPrefilter == nil || !*c.RegexPrefilter {
			t.Errorf("RegexPrefilter = %v, want true", c.RegexPrefilter)
		}
		if !slices.Equal(c.ResponseMIMETypes, DefaultResponseMIMETypes) {
			t.Errorf("ResponseMIMETypes = %v, want %v", c.ResponseMIMETypes, DefaultResponseMIMETypes)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("defaults do not validate: %v", err)
		}
	})

	t.Run("set_fields_are_kept", func(t *testing.T) {
		off := false
		in := Config{
			Mode:                     ModeDetect,
			ParanoiaLevel:            2,
			DetectionParanoiaLevel:   3,
			InboundThreshold:         10,
			OutboundThreshold:        8,
			RequestBodyLimit:         1 << 20,
			RequestBodyInMemoryLimit: 1 << 10,
			ResponseBodyLimit:        1 << 12,
			InspectResponseBody:      &off,
			ResponseMIMETypes:        []string{"application/json"},
			RegexPrefilter:           &off,
		}
		c := in.WithDefaults()
		if c.Mode != ModeDetect || c.ParanoiaLevel != 2 || c.DetectionParanoiaLevel != 3 ||
			c.InboundThreshold != 10 || c.OutboundThreshold != 8 || c.RequestBodyLimit != 1<<20 ||
			c.RequestBodyInMemoryLimit != 1<<10 || c.ResponseBodyLimit != 1<<12 ||
			*c.InspectResponseBody || *c.RegexPrefilter ||
			!slices.Equal(c.ResponseMIMETypes, []string{"application/json"}) {
			t.Errorf("WithDefaults changed set fields: %+v", c)
		}
	})

	t.Run("detection_paranoia_follows_blocking_level", func(t *testing.T) {
		c := Config{ParanoiaLevel: 3}.WithDefaults()
		if c.DetectionParanoiaLevel != 3 {
			t.Errorf("DetectionParanoiaLevel = %d, want 3", c.DetectionParanoiaLevel)
		}
	})

	t.Run("in_memory_limit_never_exceeds_small_body_limit", func(t *testing.T) {
		c := Config{RequestBodyLimit: 1000}.WithDefaults()
		if c.RequestBodyInMemoryLimit != 1000 {
			t.Errorf("RequestBodyInMemoryLimit = %d, want 1000", c.RequestBodyInMemoryLimit)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})

	t.Run("does_not_modify_receiver", func(t *testing.T) {
		in := Config{}
		_ = in.WithDefaults()
		if in.Mode != "" || in.InspectResponseBody != nil || in.ParanoiaLevel != 0 {
			t.Errorf("receiver modified: %+v", in)
		}
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // substring naming the bad field; "" means valid
	}{
		{"defaults_are_valid", func(*Config) {}, ""},
		{"detect_mode_is_valid", func(c *Config) { c.Mode = ModeDetect }, ""},
		{"paranoia_4_with_detection_4_is_valid", func(c *Config) { c.ParanoiaLevel, c.DetectionParanoiaLevel = 4, 4 }, ""},
		{"unknown_mode_names_mode", func(c *Config) { c.Mode = "monitor" }, "mode"},
		{"paranoia_0_names_paranoia_level", func(c *Config) { c.ParanoiaLevel, c.DetectionParanoiaLevel = 0, 1 }, "paranoia level"},
		{"paranoia_5_names_paranoia_level", func(c *Config) { c.ParanoiaLevel, c.DetectionParanoiaLevel = 5, 5 }, "paranoia level must be 1 to 4"},
		{"detection_below_blocking_names_detection_level", func(c *Config) { c.ParanoiaLevel, c.DetectionParanoiaLevel = 3, 2 }, "detection paranoia level"},
		{"detection_5_names_detection_level", func(c *Config) { c.DetectionParanoiaLevel = 5 }, "detection paranoia level"},
		{"inbound_threshold_0_names_inbound", func(c *Config) { c.InboundThreshold = 0 }, "inbound anomaly threshold"},
		{"outbound_threshold_negative_names_outbound", func(c *Config) { c.OutboundThreshold = -1 }, "outbound anomaly threshold"},
		{"request_body_limit_0_names_request_body_limit", func(c *Config) { c.RequestBodyLimit = 0 }, "request body limit"},
		{"in_memory_limit_0_names_in_memory_limit", func(c *Config) { c.RequestBodyInMemoryLimit = 0 }, "in-memory limit"},
		{"in_memory_limit_above_body_limit_names_in_memory_limit", func(c *Config) { c.RequestBodyLimit, c.RequestBodyInMemoryLimit = 100, 101 }, "in-memory limit"},
		{"response_body_limit_0_names_response_body_limit", func(c *Config) { c.ResponseBodyLimit = 0 }, "response body limit"},
		{"upper_case_mime_type_names_mime_type", func(c *Config) { c.ResponseMIMETypes = []string{"Text/HTML"} }, "MIME type"},
		{"mime_type_without_subtype_names_mime_type", func(c *Config) { c.ResponseMIMETypes = []string{"text"} }, "MIME type"},
		{"mime_type_with_space_names_mime_type", func(c *Config) { c.ResponseMIMETypes = []string{"text/html text/plain"} }, "MIME type"},
		{"bad_exclusion_names_exclusion_number", func(c *Config) {
			c.Exclusions = []Exclusion{{Rules: "941100"}, {Rules: "nope"}}
		}, "exclusion 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{}.WithDefaults()
			tt.mutate(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate() = nil, want error naming %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Validate() = %q, want it to name %q", err, tt.wantErr)
			}
		})
	}
}

func TestExclusionValidate(t *testing.T) {
	tests := []struct {
		name    string
		e       Exclusion
		wantErr string
	}{
		{"single_id", Exclusion{Rules: "941100"}, ""},
		{"id_range", Exclusion{Rules: "941100-941199"}, ""},
		{"equal_range", Exclusion{Rules: "941100-941100"}, ""},
		{"tag", Exclusion{Rules: "tag:attack-xss"}, ""},
		{"tag_with_slashes", Exclusion{Rules: "tag:paranoia-level/2"}, ""},
		{"id_with_args_target", Exclusion{Rules: "941100", Target: "ARGS:text"}, ""},
		{"id_with_bare_collection_target", Exclusion{Rules: "941100", Target: "ARGS"}, ""},
		{"id_with_header_target", Exclusion{Rules: "920350", Target: "REQUEST_HEADERS:User-Agent"}, ""},
		{"id_with_json_path_target", Exclusion{Rules: "942100", Target: "ARGS:json.items.0.name"}, ""},
		{"id_with_bracket_target", Exclusion{Rules: "942100", Target: "ARGS:entry[text]"}, ""},
		{"id_with_regex_cookie_target", Exclusion{Rules: "942100", Target: "REQUEST_COOKIES:/^wordpress_/"}, ""},
		{"path_prefix", Exclusion{Rules: "941100", PathPrefix: "/cgi-bin/mt/mt.cgi"}, ""},
		{"target_and_path_prefix", Exclusion{Rules: "941100-941199", Target: "ARGS:text", PathPrefix: "/cgi-bin/mt/mt.cgi"}, ""},

		{"empty_rules", Exclusion{}, "rule ID"},
		{"word_is_not_rule", Exclusion{Rules: "xss"}, `"xss" is not a rule ID`},
		{"negative_id", Exclusion{Rules: "-941100"}, "is not a rule ID"},
		{"open_range", Exclusion{Rules: "941100-"}, "is not a rule ID"},
		{"id_list_is_not_rule", Exclusion{Rules: "941100 941110"}, "is not a rule ID"},
		{"ten_digit_id", Exclusion{Rules: "1234567890"}, "is not a rule ID"},
		{"backwards_range", Exclusion{Rules: "941199-941100"}, "runs backwards"},
		{"empty_tag", Exclusion{Rules: "tag:"}, "is not a rule ID"},
		{"tag_with_quote", Exclusion{Rules: `tag:a"b`}, "is not a rule ID"},
		{"tag_with_space", Exclusion{Rules: "tag:a b"}, "is not a rule ID"},
		{"lower_case_target", Exclusion{Rules: "941100", Target: "args:text"}, "target"},
		{"target_with_quote", Exclusion{Rules: "941100", Target: `ARGS:a"b`}, "target"},
		{"target_with_comma", Exclusion{Rules: "941100", Target: "ARGS:a,b"}, "target"},
		{"target_with_pipe", Exclusion{Rules: "941100", Target: "ARGS:a|ARGS"}, "target"},
		{"target_with_empty_key", Exclusion{Rules: "941100", Target: "ARGS:"}, "target"},
		{"regex_target_with_quote", Exclusion{Rules: "941100", Target: `ARGS:/a'/`}, "target"},
		{"negated_target", Exclusion{Rules: "941100", Target: "!ARGS:text"}, "target"},
		{"relative_path", Exclusion{Rules: "941100", PathPrefix: "admin"}, "path"},
		{"path_with_space", Exclusion{Rules: "941100", PathPrefix: "/a b"}, "path"},
		{"path_with_double_quote", Exclusion{Rules: "941100", PathPrefix: `/a"`}, "path"},
		{"path_with_single_quote", Exclusion{Rules: "941100", PathPrefix: "/a'"}, "path"},
		{"path_with_newline", Exclusion{Rules: "941100", PathPrefix: "/a\nSecRuleEngine Off"}, "path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate() = nil, want error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Validate() = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// lineIndex returns the index of the first line of s equal to line, or -1.
func lineIndex(s, line string) int {
	for i, l := range strings.Split(s, "\n") {
		if l == line {
			return i
		}
	}
	return -1
}

const crsInclude = "Include @owasp_crs/*.conf"

func TestSecLang(t *testing.T) {
	off := false
	tests := []struct {
		name string
		cfg  Config
		// want are whole lines that must appear.
		want []string
		// wantBeforeCRS and wantAfterCRS must appear before/after the CRS include.
		wantBeforeCRS []string
		wantAfterCRS  []string
		// absent are substrings that must not appear.
		absent []string
	}{
		{
			name: "block_mode_turns_rule_engine_on",
			cfg:  Config{Mode: ModeBlock},
			want: []string{"SecRuleEngine On"},
		},
		{
			name:   "detect_mode_is_detection_only",
			cfg:    Config{Mode: ModeDetect},
			want:   []string{"SecRuleEngine DetectionOnly"},
			absent: []string{"SecRuleEngine On"},
		},
		{
			name: "default_paranoia_and_thresholds_are_set_as_crs_variables",
			cfg:  Config{},
			wantBeforeCRS: []string{
				`SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=1"`,
				`SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=1"`,
				`SecAction "id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4"`,
			},
		},
		{
			name: "paranoia_detection_and_thresholds_are_set_as_crs_variables",
			cfg:  Config{ParanoiaLevel: 2, DetectionParanoiaLevel: 4, InboundThreshold: 10, OutboundThreshold: 7},
			wantBeforeCRS: []string{
				`SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=2"`,
				`SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=4"`,
				`SecAction "id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=10,setvar:tx.outbound_anomaly_score_threshold=7"`,
			},
		},
		{
			name: "body_limits_and_mime_types_are_engine_settings",
			cfg:  Config{RequestBodyLimit: 1000, RequestBodyInMemoryLimit: 500, ResponseBodyLimit: 2000, ResponseMIMETypes: []string{"text/html", "application/json"}, RegexPrefilter: ptr(true)},
			wantBeforeCRS: []string{
				"SecRequestBodyAccess On",
				"SecRequestBodyLimit 1001",
				"SecRequestBodyInMemoryLimit 500",
				"SecRequestBodyLimitAction Reject",
				"SecResponseBodyAccess On",
				"SecResponseBodyMimeType text/html application/json",
				"SecResponseBodyLimit 2000",
				"SecResponseBodyLimitAction ProcessPartial",
				"SecRxPreFilter On",
			},
		},
		{
			name:   "response_inspection_off_turns_response_body_access_off",
			cfg:    Config{InspectResponseBody: &off, RegexPrefilter: &off},
			want:   []string{"SecResponseBodyAccess Off"},
			absent: []string{"SecResponseBodyAccess On", "SecRxPreFilter"},
		},
		{
			name:          "setup_directives_load_before_crs",
			cfg:           Config{SetupDirectives: `SecAction "id:900200,phase:1,pass,nolog,setvar:'tx.allowed_methods=GET POST'"`},
			wantBeforeCRS: []string{`SecAction "id:900200,phase:1,pass,nolog,setvar:'tx.allowed_methods=GET POST'"`},
		},
		{
			name:         "includes_and_directives_load_after_crs",
			cfg:          Config{Includes: []string{"/etc/mamori/patches/a.conf"}, Directives: `SecRule ARGS "@streq x" "id:10,phase:2,deny"`},
			wantAfterCRS: []string{"Include /etc/mamori/patches/a.conf", `SecRule ARGS "@streq x" "id:10,phase:2,deny"`},
		},
		{
			name:          "path_scoped_id_compiles_to_ctl_rule_remove_by_id",
			cfg:           Config{Exclusions: []Exclusion{{Rules: "941100", PathPrefix: "/admin"}}},
			wantBeforeCRS: []string{`SecRule REQUEST_FILENAME "@beginsWith /admin" "id:3500000,phase:1,pass,nolog,t:none,ctl:ruleRemoveById=941100,ctl:ruleRemoveById=9441100,ctl:ruleRemoveById=9541100,ctl:ruleRemoveById=9641100,ctl:ruleRemoveById=9741100,ctl:ruleRemoveById=9841100,ctl:ruleRemoveById=9841900-9841999"`},
			absent:        []string{"SecRuleRemoveById"},
		},
		{
			name:          "path_scoped_target_compiles_to_ctl_rule",
			cfg:           Config{Exclusions: []Exclusion{{Rules: "941100-941199", Target: "ARGS:text", PathPrefix: "/cgi-bin/mt/mt.cgi"}}},
			wantBeforeCRS: []string{`SecRule REQUEST_FILENAME "@beginsWith /cgi-bin/mt/mt.cgi" "id:3500000,phase:1,pass,nolog,t:none,ctl:ruleRemoveTargetById=941100-941199;ARGS:text,ctl:ruleRemoveTargetById=9441100-9441199;ARGS:text,ctl:ruleRemoveTargetById=9541100-9541199;ARGS:text,ctl:ruleRemoveTargetById=9641100-9641199;ARGS:text,ctl:ruleRemoveTargetById=9741100-9741199;ARGS:text,ctl:ruleRemoveTargetById=9841100-9841199;ARGS:text,ctl:ruleRemoveTargetById=9841900-9841999;ARGS:text"`},
			absent:        []string{"SecRuleUpdateTargetById"},
		},
		{
			name:          "path_scoped_tag_compiles_to_ctl_rule_remove_by_tag",
			cfg:           Config{Exclusions: []Exclusion{{Rules: "tag:attack-xss", PathPrefix: "/admin"}}},
			wantBeforeCRS: []string{`SecRule REQUEST_FILENAME "@beginsWith /admin" "id:3500000,phase:1,pass,nolog,t:none,ctl:ruleRemoveByTag=attack-xss"`},
			absent:        []string{"SecRuleRemoveByTag"},
		},
		{
			name:          "path_scoped_tag_target_compiles_to_ctl_rule_remove_target_by_tag",
			cfg:           Config{Exclusions: []Exclusion{{Rules: "tag:attack-sqli", Target: "ARGS:q", PathPrefix: "/search"}}},
			wantBeforeCRS: []string{`SecRule REQUEST_FILENAME "@beginsWith /search" "id:3500000,phase:1,pass,nolog,t:none,ctl:ruleRemoveTargetByTag=attack-sqli;ARGS:q"`},
		},
		{
			name: "path_scoped_rules_get_consecutive_ids",
			cfg: Config{Exclusions: []Exclusion{
				{Rules: "941100", PathPrefix: "/a"},
				{Rules: "942100"},
				{Rules: "942200", PathPrefix: "/b"},
			}},
			wantBeforeCRS: []string{
				`SecRule REQUEST_FILENAME "@beginsWith /a" "id:3500000,phase:1,pass,nolog,t:none,ctl:ruleRemoveById=941100,ctl:ruleRemoveById=9441100,ctl:ruleRemoveById=9541100,ctl:ruleRemoveById=9641100,ctl:ruleRemoveById=9741100,ctl:ruleRemoveById=9841100,ctl:ruleRemoveById=9841900-9841999"`,
				`SecRule REQUEST_FILENAME "@beginsWith /b" "id:3500001,phase:1,pass,nolog,t:none,ctl:ruleRemoveById=942200,ctl:ruleRemoveById=9442200,ctl:ruleRemoveById=9542200,ctl:ruleRemoveById=9642200,ctl:ruleRemoveById=9742200,ctl:ruleRemoveById=9842200,ctl:ruleRemoveById=9842900-9842999"`,
			},
			wantAfterCRS: []string{"SecRuleRemoveById 942100 9442100 9542100 9642100 9742100 9842100 9842900-9842999"},
		},
		{
			name:         "global_id_compiles_to_sec_rule_remove_by_id",
			cfg:          Config{Exclusions: []Exclusion{{Rules: "941100"}}},
			wantAfterCRS: []string{"SecRuleRemoveById 941100 9441100 9541100 9641100 9741100 9841100 9841900-9841999"},
			absent:       []string{"ctl:ruleRemoveById=941100"},
		},
		{
			name:         "global_range_compiles_to_sec_rule_remove_by_id_range",
			cfg:          Config{Exclusions: []Exclusion{{Rules: "941100-941199"}}},
			wantAfterCRS: []string{"SecRuleRemoveById 941100-941199 9441100-9441199 9541100-9541199 9641100-9641199 9741100-9741199 9841100-9841199 9841900-9841999"},
		},
		{
			name:         "global_target_compiles_to_sec_rule_update_target_by_id",
			cfg:          Config{Exclusions: []Exclusion{{Rules: "941100", Target: "ARGS:text"}}},
			wantAfterCRS: []string{`SecRuleUpdateTargetById 941100 9441100 9541100 9641100 9741100 9841100 9841900-9841999 "!ARGS:text"`},
		},
		{
			name:         "global_tag_compiles_to_sec_rule_remove_by_tag",
			cfg:          Config{Exclusions: []Exclusion{{Rules: "tag:attack-xss"}}},
			wantAfterCRS: []string{`SecRuleRemoveByTag "attack-xss"`},
		},
		{
			name:         "global_tag_target_compiles_to_sec_rule_update_target_by_tag",
			cfg:          Config{Exclusions: []Exclusion{{Rules: "tag:attack-xss", Target: "ARGS:text"}}},
			wantAfterCRS: []string{`SecRuleUpdateTargetByTag "attack-xss" "!ARGS:text"`},
		},
		{
			name: "global_exclusions_follow_includes_and_directives",
			cfg: Config{
				Includes:   []string{"/site.conf"},
				Directives: `SecRule ARGS "@streq x" "id:10,phase:2,deny"`,
				Exclusions: []Exclusion{{Rules: "10"}},
			},
			wantAfterCRS: []string{"Include /site.conf", `SecRule ARGS "@streq x" "id:10,phase:2,deny"`, "SecRuleRemoveById 10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg.WithDefaults()
			if err := cfg.Validate(); err != nil {
				t.Fatalf("test config invalid: %v", err)
			}
			s := cfg.SecLang()
			crs := lineIndex(s, crsInclude)
			if crs < 0 {
				t.Fatalf("no %q line in:\n%s", crsInclude, s)
			}
			if n := strings.Count(s, crsInclude); n != 1 {
				t.Errorf("CRS included %d times", n)
			}
			for _, w := range tt.want {
				if lineIndex(s, w) < 0 {
					t.Errorf("missing line %q in:\n%s", w, s)
				}
			}
			prev := -1
			for _, w := range tt.wantBeforeCRS {
				i := lineIndex(s, w)
				switch {
				case i < 0:
					t.Errorf("missing line %q in:\n%s", w, s)
				case i > crs:
					t.Errorf("line %q is after the CRS include (line %d > %d)", w, i, crs)
				case i < prev:
					t.Errorf("line %q is out of order", w)
				}
				prev = i
			}
			prev = crs
			for _, w := range tt.wantAfterCRS {
				i := lineIndex(s, w)
				switch {
				case i < 0:
					t.Errorf("missing line %q in:\n%s", w, s)
				case i < crs:
					t.Errorf("line %q is before the CRS include (line %d < %d)", w, i, crs)
				case i < prev:
					t.Errorf("line %q is out of order", w)
				}
				prev = i
			}
			for _, a := range tt.absent {
				if strings.Contains(s, a) {
					t.Errorf("unexpected %q in:\n%s", a, s)
				}
			}
		})
	}

	t.Run("engine_settings_come_first_and_crs_setup_before_crs", func(t *testing.T) {
		s := Config{}.WithDefaults().SecLang()
		if !strings.HasPrefix(s, "SecRuleEngine On\n") {
			t.Errorf("SecLang does not begin with SecRuleEngine: %q", s[:min(len(s), 40)])
		}
		crs := lineIndex(s, crsInclude)
		for _, prefix := range []string{`SecAction "id:900990,`, `SecAction "id:900000,`, "SecDefaultAction \"phase:2,"} {
			found := false
			for i, l := range strings.Split(s, "\n") {
				if strings.HasPrefix(l, prefix) {
					found = true
					if i > crs {
						t.Errorf("%s... is after the CRS include", prefix)
					}
				}
			}
			if !found {
				t.Errorf("no line beginning %s", prefix)
			}
		}
	})

	t.Run("output_is_deterministic", func(t *testing.T) {
		c := Config{Exclusions: []Exclusion{{Rules: "1", PathPrefix: "/a"}, {Rules: "2"}}}.WithDefaults()
		if a, b := c.SecLang(), c.SecLang(); a != b {
			t.Errorf("SecLang differs between calls")
		}
	})
}
