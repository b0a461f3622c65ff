package caddymodule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// TestValidateJSON: a JSON configuration gets the limits the Caddyfile
// parser applies (issue 10 item 6), from Validate, apart from Provision.
func TestValidateJSON(t *testing.T) {
	tests := []struct {
		name, json, wantErr string
	}{
		{"watch_off", `{}`, ""},
		{"watch_2s", `{"watch":"2s"}`, ""},
		{"watch_too_short", `{"watch":"50ms"}`, "watch:"},
		{"watch_negative", `{"watch":-1000000000}`, "watch:"},
		{"password_policy_without_profile", `{"password_policy":{"min_length":12}}`, "password_policy: needs a profile"},
		{"password_policy_off_without_profile", `{"password_policy":{"off":true}}`, ""},
		{"password_policy_with_profile", `{"profile":{"name":"wordpress"},"password_policy":{"min_length":12}}`, ""},
		{"session_without_cookies", `{"session":{}}`, "session: needs a profile"},
		{"session_with_cookies", `{"session":{"cookies":[{"name":"sid"}]}}`, ""},
		{"login_throttle_without_profile", `{"login_throttle":{"limit":3}}`, "login_throttle: needs a profile"},
		{"anchor_interval_negative", `{"logs":{"access_log":{"anchor_interval":-1}}}`, "anchor_interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Handler
			if err := json.Unmarshal([]byte(tc.json), &h); err != nil {
				t.Fatal(err)
			}
			err := h.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate: %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

// TestWatchCaddyfileAndJSONAgree: the Caddyfile parser and Validate take
// and refuse the same watch intervals.
func TestWatchCaddyfileAndJSONAgree(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"off", true}, {"100ms", true}, {"2s", true}, {"99ms", false}, {"1ns", false}} {
		h, perr := parse("mamori {\n\twatch " + tc.v + "\n}")
		if perr == nil {
			perr = h.Validate()
		}
		d := time.Duration(0)
		if tc.v != "off" {
			var err error
			if d, err = caddy.ParseDuration(tc.v); err != nil {
				t.Fatal(err)
			}
		}
		jerr := (&Handler{Watch: caddy.Duration(d)}).Validate()
		if (perr == nil) != tc.ok || (jerr == nil) != tc.ok {
			t.Errorf("watch %s: Caddyfile error %v, JSON error %v; want accepted %v", tc.v, perr, jerr, tc.ok)
		}
	}
}
