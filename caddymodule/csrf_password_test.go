package caddymodule

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mamori-waf/mamori/internal/csrf"
	"github.com/mamori-waf/mamori/internal/password"
)

func TestUnmarshalCSRFAndPasswordPolicy(t *testing.T) {
	words := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(words, []byte("ExampleCorp\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	three := 3
	tests := []struct {
		name  string
		input string
		want  Handler
	}{
		{"csrf_off_inline", "mamori {\n\tcsrf off\n}", Handler{CSRF: csrf.Config{Off: true}}},
		{"csrf_off_in_block", "mamori {\n\tcsrf {\n\t\toff\n\t}\n}", Handler{CSRF: csrf.Config{Off: true}}},
		{"csrf_full", "mamori {\n\tcsrf {\n\t\ttrusted_origin https://www.example.com http://localhost:8080\n\t\tprotect /admin/ /api/private/\n\t\texempt /sso/acs\n\t\tallow_same_site on\n\t}\n}",
			Handler{CSRF: csrf.Config{TrustedOrigins: []string{"https://www.example.com", "http://localhost:8080"}, Protect: []string{"/admin/", "/api/private/"}, Exempt: []string{"/sso/acs"}, AllowSameSite: true}}},
		{"password_policy_off", "mamori {\n\tpassword_policy off\n}", Handler{PasswordPolicy: password.Policy{Off: true}}},
		{"password_policy_full", "mamori {\n\tprofile movabletype\n\tpassword_policy {\n\t\tmin_length 12\n\t\tmin_classes 4\n\t\twords Acme mamori\n\t\twords_file " + words + "\n\t\tmin_score 3\n\t}\n}",
			Handler{Profile: &ProfileConfig{Name: "movabletype"}, PasswordPolicy: password.Policy{MinLength: 12, MinClasses: 4, Words: []string{"Acme", "mamori"}, WordsFile: words, MinScore: &three}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestUnmarshalCSRFAndPasswordPolicyErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"csrf_bad_inline", "mamori {\n\tcsrf on\n}", "usage: csrf off"},
		{"csrf_unknown_option", "mamori {\n\tcsrf {\n\t\ttrusted https://a\n\t}\n}", `unknown csrf option "trusted"`},
		{"csrf_origin_with_path", "mamori {\n\tcsrf {\n\t\ttrusted_origin https://a.test/x\n\t}\n}", "is not an origin"},
		{"csrf_origin_without_scheme", "mamori {\n\tcsrf {\n\t\ttrusted_origin www.example.com\n\t}\n}", "is not an origin"},
		{"csrf_trusted_origin_no_args", "mamori {\n\tcsrf {\n\t\ttrusted_origin\n\t}\n}", "wrong argument count"},
		{"csrf_relative_protect", "mamori {\n\tcsrf {\n\t\tprotect admin/\n\t}\n}", "must start with /"},
		{"csrf_same_site_bad", "mamori {\n\tcsrf {\n\t\tallow_same_site yes\n\t}\n}", "allow_same_site must be on or off"},
		{"pw_bad_inline", "mamori {\n\tpassword_policy strict\n}", "usage: password_policy off"},
		{"pw_unknown", "mamori {\n\tpassword_policy {\n\t\tmax_length 4\n\t}\n}", `unknown password_policy option "max_length"`},
		{"pw_length_word", "mamori {\n\tpassword_policy {\n\t\tmin_length eight\n\t}\n}", "is not a whole number"},
		{"pw_length_zero", "mamori {\n\tpassword_policy {\n\t\tmin_length 0\n\t}\n}", "must be at least 1"},
		{"pw_classes_5", "mamori {\n\tpassword_policy {\n\t\tmin_classes 5\n\t}\n}", "min_classes must be 1 to 4"},
		{"pw_score_9", "mamori {\n\tpassword_policy {\n\t\tmin_score 9\n\t}\n}", "min_score must be 0 to 4"},
		{"pw_short_word", "mamori {\n\tpassword_policy {\n\t\twords ab\n\t}\n}", "shorter than 3"},
		{"pw_missing_words_file", "mamori {\n\tpassword_policy {\n\t\twords_file /nonexistent/words.txt\n\t}\n}", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "Testfile:") {
				t.Fatalf("error %v, want one with %q and the line", err, tt.want)
			}
		})
	}
}
