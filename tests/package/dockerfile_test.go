package pkgtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dockerInstr is one Dockerfile instruction with its arguments, continued
// lines joined.
type dockerInstr struct{ cmd, args string }

func parseDockerfile(t *testing.T, text string) []dockerInstr {
	var out []dockerInstr
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Errorf("the Dockerfile ends inside a continued line: %q", cur.String())
	}
	return out
}

// TestDockerfile: docker build cannot run on the test machines, so the
// Dockerfile is parsed: a build stage and a run stage, a static build,
// a non-root user, a HEALTHCHECK on mamori's health endpoint, and the
// files it copies exist.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"FROM": true, "RUN": true, "COPY": true, "ENV": true, "USER": true, "EXPOSE": true,
		"VOLUME": true, "HEALTHCHECK": true, "ENTRYPOINT": true, "CMD": true, "WORKDIR": true, "ARG": true, "LABEL": true}
	var froms, users, health []string
	var static bool
	for _, in := range parseDockerfile(t, string(b)) {
		if !known[in.cmd] {
			t.Errorf("unknown instruction %s %s", in.cmd, in.args)
		}
		switch in.cmd {
		case "FROM":
			froms = append(froms, in.args)
		case "USER":
			users = append(users, in.args)
		case "HEALTHCHECK":
			health = append(health, in.args)
		case "RUN":
			if strings.Contains(in.args, "CGO_ENABLED=0 go build") && strings.Contains(in.args, "./cmd/mamori") {
				static = true
			}
		case "COPY":
			f := strings.Fields(in.args)
			if len(f) >= 2 && !strings.HasPrefix(f[0], "--from") && !strings.HasPrefix(f[0], "--chown") {
				for _, src := range f[:len(f)-1] {
					if src == "." {
						continue
					}
					if _, err := os.Stat(filepath.Join(repoRoot(), src)); err != nil {
						t.Errorf("COPY %s: %v", src, err)
					}
				}
			}
		}
	}
	if len(froms) < 2 || !strings.Contains(froms[0], " AS ") {
		t.Errorf("not a multi-stage build: FROM %q", froms)
	}
	if !static {
		t.Error("no static build (CGO_ENABLED=0 go build ./cmd/mamori)")
	}
	if len(users) == 0 {
		t.Error("no USER: the image would run as root")
	}
	for _, u := range users {
		if name, _, _ := strings.Cut(u, ":"); name == "root" || name == "0" {
			t.Errorf("USER %s is root", u)
		}
	}
	if len(health) != 1 || !strings.Contains(health[0], "/.well-known/mamori/health") || !strings.Contains(health[0], "mamori\", \"health\"") {
		t.Errorf("HEALTHCHECK %q: want `mamori health` on the health endpoint", health)
	}
}
