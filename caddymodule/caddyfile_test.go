package caddymodule

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/headers"
	"github.com/mamori-waf/mamori/internal/password"
	"github.com/mamori-waf/mamori/internal/profile"
	"github.com/mamori-waf/mamori/internal/session"
	"github.com/mamori-waf/mamori/internal/waf"
)

func parse(input string) (Handler, error) {
	var h Handler
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
	return h, err
}

func boolPtr(b bool) *bool { return &b }

func TestUnmarshalCaddyfile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Handler
	}{
		{"bare_directive_is_zero_config", `mamori`, Handler{}},
		{"empty_block_is_zero_config", "mamori {\n}", Handler{}},
		{"mode_detect", "mamori {\n\tmode detect\n}", Handler{WAF: waf.Config{Mode: waf.ModeDetect}}},
		{"mode_block", "mamori {\n\tmode block\n}", Handler{WAF: waf.Config{Mode: waf.ModeBlock}}},
		{"paranoia_only", "mamori {\n\tparanoia 2\n}", Handler{WAF: waf.Config{ParanoiaLevel: 2}}},
		{"paranoia_level_alias", "mamori {\n\tparanoia_level 3\n}", Handler{WAF: waf.Config{ParanoiaLevel: 3}}},
		{"paranoia_with_detection", "mamori {\n\tparanoia 1 detection 3\n}", Handler{WAF: waf.Config{ParanoiaLevel: 1, DetectionParanoiaLevel: 3}}},
		{"anomaly_threshold_inbound_only", "mamori {\n\tanomaly_threshold 10\n}", Handler{WAF: waf.Config{InboundThreshold: 10}}},
		{"anomaly_threshold_in_and_out", "mamori {\n\tanomaly_threshold 10 8\n}", Handler{WAF: waf.Config{InboundThreshold: 10, OutboundThreshold: 8}}},
		{"sizes_in_si_and_iec_units", "mamori {\n\trequest_body_limit 10MB\n\trequest_body_memory_limit 256KiB\n\tresponse_body_limit 1MiB\n}",
			Handler{WAF: waf.Config{RequestBodyLimit: 10_000_000, RequestBodyInMemoryLimit: 256 << 10, ResponseBodyLimit: 1 << 20}}},
		{"size_in_plain_bytes", "mamori {\n\trequest_body_limit 4096\n}", Handler{WAF: waf.Config{RequestBodyLimit: 4096}}},
		{"work_budget", "mamori {\n\tbudget {\n\t\tinspected_bytes 4MiB\n\t\tdecoded_bytes off\n\t\tdecoded_values 1000\n\t\tdepth on\n\t}\n}",
			Handler{WAF: waf.Config{Budget: waf.Budget{InspectedBytes: 4 << 20, DecodedBytes: -1, DecodedValues: 1000}}}},
		{"work_budget_decompressed", "mamori {\n\tbudget {\n\t\tdecompressed_bytes 8MiB\n\t}\n}",
			Handler{WAF: waf.Config{Budget: waf.Budget{DecompressedBytes: 8 << 20}}}},
		{"response_inspection_off", "mamori {\n\tresponse_inspection off\n}", Handler{WAF: waf.Config{InspectResponseBody: boolPtr(false)}}},
		{"response_inspection_on", "mamori {\n\tresponse_inspection on\n}", Handler{WAF: waf.Config{InspectResponseBody: boolPtr(true)}}},
		{"regex_prefilter_off", "mamori {\n\tregex_prefilter off\n}", Handler{WAF: waf.Config{RegexPrefilter: boolPtr(false)}}},
		{"response_mime_types", "mamori {\n\tresponse_mime_types text/html application/json\n}", Handler{WAF: waf.Config{ResponseMIMETypes: []string{"text/html", "application/json"}}}},
		{"include_globs_accumulate", "mamori {\n\tinclude /etc/mamori/patches/*.conf\n\tinclude /etc/mamori/a.conf /etc/mamori/b.conf\n}",
			Handler{WAF: waf.Config{Includes: []string{"/etc/mamori/patches/*.conf", "/etc/mamori/a.conf", "/etc/mamori/b.conf"}}}},
		{"directives_accumulate_as_lines", "mamori {\n\tdirectives \"SecAction id:1\"\n\tdirectives `SecAction id:2`\n}",
			Handler{WAF: waf.Config{Directives: "SecAction id:1\nSecAction id:2"}}},
		{"setup_directives", "mamori {\n\tsetup_directives \"SecAction id:900200\"\n}", Handler{WAF: waf.Config{SetupDirectives: "SecAction id:900200"}}},
		{"block_page", "mamori {\n\tblock_page /etc/mamori/block.html\n}", Handler{BlockPage: "/etc/mamori/block.html"}},
		{"exclude_id", "mamori {\n\texclude 941100\n}", Handler{WAF: waf.Config{Exclusions: []waf.Exclusion{{Rules: "941100"}}}}},
		{"exclude_id_on_target", "mamori {\n\texclude 941100 on ARGS:text\n}",
			Handler{WAF: waf.Config{Exclusions: []waf.Exclusion{{Rules: "941100", Target: "ARGS:text"}}}}},
		{"exclude_range_on_target_at_path", "mamori {\n\texclude 941100-941199 on ARGS:text at /cgi-bin/mt/mt.cgi\n}",
			Handler{WAF: waf.Config{Exclusions: []waf.Exclusion{{Rules: "941100-941199", Target: "ARGS:text", PathPrefix: "/cgi-bin/mt/mt.cgi"}}}}},
		{"exclude_at_before_on", "mamori {\n\texclude 941100 at /cms on ARGS:body\n}",
			Handler{WAF: waf.Config{Exclusions: []waf.Exclusion{{Rules: "941100", Target: "ARGS:body", PathPrefix: "/cms"}}}}},
		{"exclude_tag_at_path", "mamori {\n\texclude tag:attack-xss at /admin\n}",
			Handler{WAF: waf.Config{Exclusions: []waf.Exclusion{{Rules: "tag:attack-xss", PathPrefix: "/admin"}}}}},
		{"exclude_regex_cookie_target", "mamori {\n\texclude 942100 on REQUEST_COOKIES:/^wordpress_/\n}",
			Handler{WAF: waf.Config{Exclusions: []waf.Exclusion{{Rules: "942100", Target: "REQUEST_COOKIES:/^wordpress_/"}}}}},
		{"nested_crs_and_rules_blocks", "mamori {\n\tmode detect\n\tcrs {\n\t\tparanoia 2\n\t\tanomaly_threshold 7\n\t}\n\trules {\n\t\texclude 1\n\t\tinclude /r/*.conf\n\t}\n\tblock_page /b.html\n}",
			Handler{BlockPage: "/b.html", WAF: waf.Config{Mode: waf.ModeDetect, ParanoiaLevel: 2, InboundThreshold: 7,
				Exclusions: []waf.Exclusion{{Rules: "1"}}, Includes: []string{"/r/*.conf"}}}},
		{"profile_bare", "mamori {\n\tprofile wordpress\n}", Handler{Profile: &ProfileConfig{Name: "wordpress"}}},
		{"profile_with_paths", "mamori {\n\tprofile movabletype {\n\t\tadmin_path /mt/\n\t\tstatic_path /static/\n\t}\n}",
			Handler{Profile: &ProfileConfig{Name: "movabletype", Options: profile.Options{AdminPath: "/mt/", StaticPath: "/static/"}}}},
		{"everything_together", `mamori {
	mode block
	paranoia 2 detection 4
	anomaly_threshold 12 6
	request_body_limit 10MB
	response_inspection off
	include /etc/mamori/*.conf
	exclude 941100
	exclude 941100 on ARGS:text
	exclude 941100-941199 on ARGS:text at /cgi-bin/mt/mt.cgi
	exclude tag:attack-xss at /admin
}`, Handler{WAF: waf.Config{
			Mode: waf.ModeBlock, ParanoiaLevel: 2, DetectionParanoiaLevel: 4, InboundThreshold: 12, OutboundThreshold: 6,
			RequestBodyLimit: 10_000_000, InspectResponseBody: boolPtr(false), Includes: []string{"/etc/mamori/*.conf"},
			Exclusions: []waf.Exclusion{
				{Rules: "941100"},
				{Rules: "941100", Target: "ARGS:text"},
				{Rules: "941100-941199", Target: "ARGS:text", PathPrefix: "/cgi-bin/mt/mt.cgi"},
				{Rules: "tag:attack-xss", PathPrefix: "/admin"},
			},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.input)
			if err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got.WAF, tt.want.WAF)
			}
			// Whatever parses must also compile to a valid config.
			if err := got.WAF.WithDefaults().Validate(); err != nil {
				t.Errorf("parsed config does not validate: %v", err)
			}
		})
	}
}

func TestUnmarshalCaddyfileErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		line  int
		want  string
	}{
		{"unknown_option", "mamori {\n\tmode block\n\tparanoya 2\n}", 3, `unknown mamori option "paranoya"`},
		{"argument_on_directive_line", "mamori detect {\n}", 1, "wrong argument count"},
		{"mode_foo", "mamori {\n\tmode foo\n}", 2, `mode must be block or detect, not "foo"`},
		{"mode_without_value", "mamori {\n\tmode\n}", 2, "wrong argument count"},
		{"mode_with_two_values", "mamori {\n\tmode block detect\n}", 2, "wrong argument count"},
		{"paranoia_5", "mamori {\n\tparanoia 5\n}", 2, `paranoia level must be 1 to 4, not "5"`},
		{"paranoia_0", "mamori {\n\tparanoia 0\n}", 2, "paranoia level must be 1 to 4"},
		{"paranoia_word", "mamori {\n\tparanoia high\n}", 2, "paranoia level must be 1 to 4"},
		{"paranoia_without_value", "mamori {\n\tparanoia\n}", 2, "usage: paranoia"},
		{"paranoia_detection_5", "mamori {\n\tparanoia 1 detection 5\n}", 2, "paranoia level must be 1 to 4"},
		{"paranoia_detection_below_blocking", "mamori {\n\tparanoia 3 detection 2\n}", 2, "below the blocking level"},
		{"paranoia_bad_keyword", "mamori {\n\tparanoia 1 detect 2\n}", 2, "usage: paranoia"},
		{"anomaly_threshold_0", "mamori {\n\tanomaly_threshold 0\n}", 2, "anomaly threshold must be a positive whole number"},
		{"anomaly_threshold_outbound_0", "mamori {\n\tanomaly_threshold 5 0\n}", 2, "anomaly threshold must be a positive whole number"},
		{"anomaly_threshold_three_values", "mamori {\n\tanomaly_threshold 5 4 3\n}", 2, "usage: anomaly_threshold"},
		{"size_word", "mamori {\n\trequest_body_limit lots\n}", 2, "is not a size"},
		{"size_zero", "mamori {\n\tresponse_body_limit 0\n}", 2, "is not a size"},
		{"response_inspection_yes", "mamori {\n\tresponse_inspection yes\n}", 2, "must be on or off"},
		{"exclude_without_rule", "mamori {\n\texclude\n}", 2, "usage: exclude"},
		{"exclude_bad_target", "mamori {\n\texclude 941100 on args:text\n}", 2, "target"},
		{"exclude_target_with_quote", "mamori {\n\texclude 941100 on `ARGS:a\"b`\n}", 2, "target"},
		{"exclude_on_without_target", "mamori {\n\texclude 941100 on\n}", 2, `"on" needs a value`},
		{"exclude_at_without_path", "mamori {\n\texclude 941100 at\n}", 2, `"at" needs a value`},
		{"exclude_unknown_keyword", "mamori {\n\texclude 941100 for ARGS:text\n}", 2, "expected 'on <target>' or 'at <path>'"},
		{"exclude_bad_rule", "mamori {\n\texclude xss\n}", 2, "is not a rule ID"},
		{"exclude_relative_path", "mamori {\n\texclude 941100 at admin\n}", 2, "must begin with /"},
		{"nested_unknown_option", "mamori {\n\tcrs {\n\t\tparanoia 1\n\t\tbogus 1\n\t}\n}", 4, `unknown mamori option "bogus"`},
		{"nested_block_with_argument", "mamori {\n\tcrs x {\n\t}\n}", 2, "wrong argument count"},
		{"include_without_file", "mamori {\n\tinclude\n}", 2, "wrong argument count"},
		{"profile_unknown", "mamori {\n\tprofile drupal\n}", 2, `unknown profile "drupal"`},
		{"profile_relative_path", "mamori {\n\tprofile movabletype {\n\t\tadmin_path cgi-bin\n\t}\n}", 4, "must start with /"},
		{"profile_unknown_option", "mamori {\n\tprofile movabletype {\n\t\tcgi_path /x/\n\t}\n}", 3, `unknown profile option "cgi_path"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.input)
			if err == nil {
				t.Fatalf("UnmarshalCaddyfile succeeded, want error %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if loc := "Testfile:" + strconv.Itoa(tt.line); !strings.Contains(err.Error(), loc) {
				t.Errorf("error %q does not name line %s", err, loc)
			}
		})
	}
}

func TestUnmarshalCaddyfileHeaders(t *testing.T) {
	tests := []struct {
		name, input string
		want        headers.Policy
		wantErr     string
	}{
		{
			name:  "every_option",
			input: "mamori {\n\theaders {\n\t\thsts off\n\t\tcsp \"default-src 'self'\" report_only\n\t\tframe_options DENY\n\t\treferrer_policy no-referrer\n\t\tpermissions_policy off\n\t\tcoop same-origin-allow-popups\n\t\tcontent_type_options nosniff\n\t\tremove X-Pingback X-Debug\n\t\tkeep Server\n\t}\n}",
			want: headers.Policy{StrictTransportSecurity: "off", ContentSecurityPolicy: "default-src 'self'", CSPReportOnly: true,
				FrameOptions: "DENY", ReferrerPolicy: "no-referrer", PermissionsPolicy: "off", CrossOriginOpenerPolicy: "same-origin-allow-popups",
				ContentTypeOptions: "nosniff", Remove: []string{"X-Pingback", "X-Debug"}, Keep: []string{"Server"}},
		},
		{name: "unknown_option", input: "mamori {\n\theaders {\n\t\tcsp_only x\n\t}\n}", wantErr: "Testfile:3"},
		{name: "two_values", input: "mamori {\n\theaders {\n\t\tframe_options DENY SAMEORIGIN\n\t}\n}", wantErr: "one value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h.Headers, tc.want) {
				t.Errorf("got %+v\nwant %+v", h.Headers, tc.want)
			}
		})
	}
}

// Issue 15: options that act on a profile's forms and cookies are an
// error at their line without one, instead of being accepted and doing
// nothing; with a profile, or session cookies named, they are fine.
func TestOptionsThatNeedAProfile(t *testing.T) {
	tests := []struct {
		name, input, want string // want "": valid
	}{
		{"session_without_profile", "mamori {\n\tmode block\n\tsession {\n\t\tidle_timeout 1h\n\t}\n}", "needs a profile or `cookie <name> ...` lines: without them it guards no cookie, at Testfile:3"},
		{"password_policy_without_profile", "mamori {\n\tpassword_policy {\n\t\tmin_length 12\n\t}\n}", "password_policy: needs a profile: it checks the new passwords of the profile's password forms, at Testfile:2"},
		{"session_with_cookies", "mamori {\n\tsession {\n\t\tcookie sid seal\n\t}\n}", ""},
		{"session_with_profile_after_it", "mamori {\n\tsession {\n\t\tidle_timeout 1h\n\t}\n\tprofile wordpress\n}", ""},
		{"password_policy_with_profile", "mamori {\n\tprofile movabletype\n\tpassword_policy {\n\t\tmin_length 12\n\t}\n}", ""},
		{"session_off", "mamori {\n\tsession off\n}", ""},
		{"password_policy_off", "mamori {\n\tpassword_policy off\n}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.input)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// The same holds for JSON configurations, in Validate.
	for _, h := range []*Handler{
		{Session: &session.Config{IdleTimeout: session.Duration(time.Hour)}},
		{PasswordPolicy: password.Policy{MinLength: 12}},
	} {
		err := h.Validate()
		if err == nil || !strings.Contains(err.Error(), "needs a profile") {
			t.Errorf("%+v: err = %v, want 'needs a profile'", h, err)
		}
	}
}
