package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestProtectConfig(t *testing.T) {
	tests := []struct {
		name    string
		opts    protectOptions
		want    []string // substrings of the JSON config
		wantErr string
	}{
		{"plain_http", protectOptions{from: "127.0.0.1:8080", to: "127.0.0.1:9000", mode: "block", paranoia: 1},
			[]string{`"handler":"mamori"`, `"dial":"127.0.0.1:9000"`, `"listen":["127.0.0.1:8080"]`}, ""},
		{"profile_with_admin_path", protectOptions{from: ":8080", to: "127.0.0.1:9000", mode: "block", paranoia: 1, profile: "movabletype", adminPath: "/mt/"},
			[]string{`"profile":{"admin_path":"/mt/","name":"movabletype"}`}, ""},
		{"unknown_profile", protectOptions{from: ":8080", to: "127.0.0.1:9000", mode: "block", paranoia: 1, profile: "joomla"}, nil, `--profile: unknown profile "joomla"`},
		{"admin_path_without_profile", protectOptions{from: ":8080", to: "127.0.0.1:9000", mode: "block", paranoia: 1, adminPath: "/mt/"}, nil, "--admin-path needs --profile"},
		{"missing_to", protectOptions{from: ":8080", mode: "block", paranoia: 1}, nil, "--from and --to are both required"},
		{"http_without_port", protectOptions{from: "example.com", to: "127.0.0.1:9000", mode: "block", paranoia: 1}, nil, "give host:port"},
		{"upstream_without_port", protectOptions{from: ":8080", to: "backend", mode: "block", paranoia: 1}, nil, "need an upstream host:port"},
		{"bad_mode", protectOptions{from: ":8080", to: "127.0.0.1:9000", mode: "audit", paranoia: 1}, nil, "mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.opts.config()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("config lacks %s:\n%s", w, b)
				}
			}
		})
	}
}
