package caddymodule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/mamori-waf/mamori/internal/auth"
	"github.com/mamori-waf/mamori/internal/session"
)

func intPtr(n int) *int { return &n }

func TestSessionCaddyfileOptions(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		session  *session.Config
		throttle *auth.ThrottleConfig
	}{
		{"session_off", "mamori {\n\tsession off\n}", &session.Config{Off: true}, nil},
		{"session_block", `mamori {
	session {
		cookie mt_commenter harden samesite strict
		cookie my_sess* seal authenticated
		cookie prefs off
		cookie ui_state harden script_readable
		bind ip_prefix 16 48
		bind user_agent
		idle_timeout 30m
		absolute_timeout 1d
		samesite strict
		redis_failure open
		no_store off
	}
}`, &session.Config{
			Cookies: []session.CookieRule{
				{Name: "mt_commenter", Mode: "harden", SameSite: "strict"},
				{Name: "my_sess*", Mode: "seal", Authenticated: true},
				{Name: "prefs", Mode: "off"},
				{Name: "ui_state", Mode: "harden", ScriptReadable: true},
			},
			Bind:        &session.Binding{IPv4Prefix: intPtr(16), IPv6Prefix: intPtr(48), UserAgent: session.UAFull},
			IdleTimeout: session.Duration(30 * time.Minute), AbsoluteTimeout: session.Duration(24 * time.Hour),
			SameSite: "strict", StoreFailure: "open", NoStore: boolPtr(false),
		}, nil},
		{"bind_off", "mamori {\n\tsession {\n\t\tcookie sid seal\n\t\tbind off\n\t}\n}", &session.Config{Cookies: []session.CookieRule{{Name: "sid", Mode: "seal"}}, Bind: &session.Binding{Off: true}}, nil},
		{"bind_user_agent_family", "mamori {\n\tsession {\n\t\tcookie sid seal\n\t\tbind user_agent family ip_prefix 32\n\t}\n}",
			&session.Config{Cookies: []session.CookieRule{{Name: "sid", Mode: "seal"}}, Bind: &session.Binding{UserAgent: session.UAFamily, IPv4Prefix: intPtr(32)}}, nil},
		{"bind_user_agent_off", "mamori {\n\tsession {\n\t\tcookie sid seal\n\t\tbind user_agent off\n\t}\n}", &session.Config{Cookies: []session.CookieRule{{Name: "sid", Mode: "seal"}}, Bind: &session.Binding{UserAgent: session.UAOff}}, nil},
		{"login_throttle", "mamori {\n\tlogin_throttle 10 per 1h\n}", nil,
			&auth.ThrottleConfig{Limit: 10, Window: auth.Duration(time.Hour)}},
		{"login_throttle_failure_choice", "mamori {\n\tlogin_throttle 5 per 15m redis_failure open\n}", nil,
			&auth.ThrottleConfig{Limit: 5, Window: auth.Duration(15 * time.Minute), StoreFailure: "open"}},
		{"login_throttle_off", "mamori {\n\tlogin_throttle off\n}", nil, &auth.ThrottleConfig{Off: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parse(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h.Session, tt.session) {
				t.Errorf("session\n got %+v\nwant %+v", h.Session, tt.session)
			}
			if !reflect.DeepEqual(h.LoginThrottle, tt.throttle) {
				t.Errorf("throttle\n got %+v\nwant %+v", h.LoginThrottle, tt.throttle)
			}
			// The JSON form round-trips.
			b, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			var back Handler
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Session, h.Session) || !reflect.DeepEqual(back.LoginThrottle, h.LoginThrottle) {
				t.Errorf("JSON round trip: %s → %+v (%v)", b, back, err)
			}
		})
	}
}

func TestSessionCaddyfileErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"bad_samesite", "mamori {\n\tsession {\n\t\tsamesite loose\n\t}\n}", "Testfile:3"},
		{"bad_cookie_setting", "mamori {\n\tsession {\n\t\tcookie a encrypt\n\t}\n}", "unknown setting"},
		{"bad_glob", "mamori {\n\tsession {\n\t\tcookie a[ seal\n\t}\n}", "bad glob"},
		{"bad_prefix", "mamori {\n\tsession {\n\t\tbind ip_prefix 40\n\t}\n}", "0 to 32"},
		{"bind_without_bits", "mamori {\n\tsession {\n\t\tbind ip_prefix\n\t}\n}", "prefix length"},
		{"bad_bind", "mamori {\n\tsession {\n\t\tbind mac_address\n\t}\n}", "unknown"},
		{"bad_duration", "mamori {\n\tsession {\n\t\tidle_timeout soon\n\t}\n}", "positive duration"},
		{"idle_over_absolute", "mamori {\n\tsession {\n\t\tidle_timeout 2h\n\t\tabsolute_timeout 1h\n\t}\n}", "Testfile:4"},
		{"bad_failure", "mamori {\n\tsession {\n\t\tredis_failure maybe\n\t}\n}", "open or closed"},
		{"unknown_session_option", "mamori {\n\tsession {\n\t\tlifetime 2h\n\t}\n}", "unknown session option"},
		{"session_arg", "mamori {\n\tsession on\n}", "usage: session off"},
		{"throttle_words", "mamori {\n\tlogin_throttle 5 every 15m\n}", "usage: login_throttle"},
		{"throttle_zero", "mamori {\n\tlogin_throttle 0 per 15m\n}", "positive number"},
		{"throttle_duration", "mamori {\n\tlogin_throttle 5 per fortnight\n}", "positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func parseGlobal(input string) (any, error) {
	return parseGlobalOption(caddyfile.NewTestDispenser(input), nil)
}

func TestGlobalOption(t *testing.T) {
	key := "c2Vzc2lvbi10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE="
	old := "b2xkLXNlc3Npb24ta2V5LTMyLWJ5dGVzLWxvbmchISE="
	tests := []struct {
		name, input string
		want        App
	}{
		{"memory", "mamori {\n\tstate memory\n}", App{State: "memory"}},
		{"redis_and_rotation", "mamori {\n\tstate redis://127.0.0.1:6379/2\n\tseal_key " + key + " " + old + "\n\tredis_failure open\n}",
			App{State: "redis://127.0.0.1:6379/2", SealKeys: []string{key, old}, RedisFailure: "open"}},
		{"key_file", "mamori {\n\tkey_file /etc/mamori/seal.key\n}", App{KeyFile: "/etc/mamori/seal.key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseGlobal(tt.input)
			if err != nil {
				t.Fatal(err)
			}
			app, ok := v.(httpcaddyfile.App)
			if !ok || app.Name != "mamori" {
				t.Fatalf("got %#v", v)
			}
			var got App
			if err := json.Unmarshal(app.Value, &got); err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("JSON %s → %+v, want %+v (%v)", app.Value, got, tt.want, err)
			}
		})
	}
	errs := []struct{ name, input, want string }{
		{"bad_state", "mamori {\n\tstate mysql://db\n}", "Testfile:2"},
		{"bad_redis_db", "mamori {\n\tstate redis://127.0.0.1:6379/x\n}", "state"},
		{"short_key", "mamori {\n\tseal_key c2hvcnQ=\n}", "not 32 bytes"},
		{"three_keys", "mamori {\n\tseal_key " + key + " " + key + " " + key + "\n}", "usage: seal_key"},
		{"key_and_file", "mamori {\n\tseal_key " + key + "\n\tkey_file /x\n}", "exclusive"},
		{"bad_failure", "mamori {\n\tredis_failure sometimes\n}", "usage: redis_failure"},
		{"unknown", "mamori {\n\tstorage redis\n}", "unknown global mamori option"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseGlobal(tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}
