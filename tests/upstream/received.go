package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// received remembers the request target of every request the upstream
// got, so a test can prove that a refused request never arrived: it puts
// a unique marker in the query string and asks
//
//	/received?contains=<marker>   → {"count": N}
//
// directly (not through mamori). Bodies are not recorded (streaming and
// aborted uploads must stay untouched).
type receivedLog struct {
	mu   sync.Mutex
	uris []string
}

const maxReceived = 100000

func (l *receivedLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/received" {
			l.answer(w, r)
			return
		}
		l.mu.Lock()
		if len(l.uris) >= maxReceived {
			l.uris = l.uris[maxReceived/2:]
		}
		l.uris = append(l.uris, r.RequestURI)
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *receivedLog) answer(w http.ResponseWriter, r *http.Request) {
	marker := r.URL.Query().Get("contains")
	n := 0
	l.mu.Lock()
	for _, u := range l.uris {
		if marker != "" && strings.Contains(u, marker) {
			n++
		}
	}
	l.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"count": n})
}
