// Command upstream is the real upstream process of mamori's end-to-end
// tests and CRS regression suite: a small httpbin-like server.
//
//	/anything...     echoes the request body (urldecoded for forms), as httpbin
//	/base64/<b64>    answers the decoded bytes, as httpbin
//	/status/<code>   answers with that status
//	/echo...         answers JSON: the method, URI, headers and body it received
//	/page            an 8 KiB HTML page
//	/stream?id=X     Server-Sent Events: one event, then (after /release?id=X,
//	                 or 10 s) two more, each flushed
//	/ws              WebSocket echo
//	/reflect         answers the status, headers and body a JSON request
//	                 describes, as CRS's albedo server (its response tests)
//	/leak            an HTML page with a PHP/SQL error leak (response rules);
//	                 ?untyped=1 sends it without a Content-Type
//	/received?contains=X  how many requests so far had X in their target
//	                 (received.go)
//	/cgi-bin/mt/..., /wp-login.php, /wp-admin/...
//	                 a fake Movable Type and WordPress with real sessions (cms.go)
//	/autoindex/      an Apache-style directory index ("Index of /autoindex/")
//	anything else    "Hello!" as text/plain
package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/anything", anything)
	mux.HandleFunc("/anything/", anything)
	mux.HandleFunc("/base64/", func(w http.ResponseWriter, r *http.Request) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.URL.Path, "/base64/"))
		if err != nil {
			http.Error(w, "bad base64", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusOK
		}
		w.WriteHeader(code)
	})
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/echo/", echo)
	mux.HandleFunc("/page", page)
	mux.HandleFunc("/stream", stream)
	mux.HandleFunc("/release", releaseStream)
	mux.Handle("/ws", websocket.Handler(func(c *websocket.Conn) { _, _ = io.Copy(c, c) }))
	mux.HandleFunc("/reflect", reflect)
	registerCMS(mux)
	mux.HandleFunc("/leak", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("untyped") == "" {
			w.Header().Set("Content-Type", "text/html")
		} else {
			// No Content-Type: net/http sniffs text/html from the body.
			w.Header()["Content-Type"] = nil
		}
		fmt.Fprint(w, "<html><body><b>Warning</b>:  mysql_fetch_array() expects parameter 1 to be resource, boolean given in <b>/var/www/index.php</b> on line <b>12</b></body></html>")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "Hello!")
	})
	mux.HandleFunc("/autoindex/", autoindex)
	srv := &http.Server{Addr: *addr, Handler: (&receivedLog{}).wrap(mux), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func anything(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		if s, err := url.QueryUnescape(string(body)); err == nil {
			body = []byte(s)
		}
	}
	_, _ = w.Write(body)
}

// Received is what /echo answers: the request as the upstream saw it.
type Received struct {
	Method  string      `json:"method"`
	URI     string      `json:"uri"`
	Host    string      `json:"host"`
	Header  http.Header `json:"header"`
	Body    string      `json:"body"`
	Chunked bool        `json:"chunked"`
}

func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Received{
		Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header,
		Body: string(body), Chunked: len(r.TransferEncoding) > 0,
	})
}

func page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<!doctype html><html><head><title>Entry</title></head><body><main>\n")
	for i := 0; b.Len() < 8*1024-64; i++ {
		fmt.Fprintf(&b, "<p>Paragraph %d of an ordinary blog entry about gardening, travel and the weather.</p>\n", i)
	}
	b.WriteString("</main></body></html>\n")
	_, _ = io.WriteString(w, b.String())
}

// released holds, per stream ID, a channel that /release closes.
var released sync.Map

func stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	release, _ := released.LoadOrStore(r.URL.Query().Get("id"), make(chan struct{}))
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(w, "data: event %d\n\n", i)
		if err := rc.Flush(); err != nil {
			return
		}
		if i == 1 {
			// The rest waits until the client, having read the first
			// event, calls /release: a proxy that buffers the stream
			// never lets it get that far.
			select {
			case <-release.(chan struct{}):
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
	}
}

func releaseStream(w http.ResponseWriter, r *http.Request) {
	ch, _ := released.LoadOrStore(r.URL.Query().Get("id"), make(chan struct{}))
	select {
	case <-ch.(chan struct{}):
	default:
		close(ch.(chan struct{}))
	}
}

// reflection is the request body /reflect understands (albedo's format).
type reflection struct {
	Status      int               `json:"status"`
	Headers     map[string]string `json:"headers"`
	Body        string            `json:"body"`
	EncodedBody string            `json:"encodedBody"`
}

func reflect(w http.ResponseWriter, r *http.Request) {
	var spec reflection
	if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
		http.Error(w, "invalid JSON in request body", http.StatusBadRequest)
		return
	}
	body := []byte(spec.Body)
	if spec.Body == "" && spec.EncodedBody != "" {
		b, err := base64.StdEncoding.DecodeString(spec.EncodedBody)
		if err != nil {
			http.Error(w, "invalid base64 in encodedBody", http.StatusBadRequest)
			return
		}
		body = b
	}
	if spec.Status == 0 {
		spec.Status = http.StatusOK
	}
	if spec.Status < 100 || spec.Status > 599 {
		http.Error(w, "invalid status", http.StatusBadRequest)
		return
	}
	for name, value := range spec.Headers {
		w.Header().Add(name, value)
	}
	w.WriteHeader(spec.Status)
	_, _ = w.Write(body)
}

// autoindex answers what Apache's mod_autoindex serves for a directory.
func autoindex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	fmt.Fprintf(w, `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html>
 <head>
  <title>Index of %[1]s</title>
 </head>
 <body>
<h1>Index of %[1]s</h1>
<ul><li><a href="/"> Parent Directory</a></li>
<li><a href="backup.sql"> backup.sql</a></li>
<li><a href="wp-config.php.bak"> wp-config.php.bak</a></li>
</ul>
</body></html>
`, html.EscapeString(strings.TrimSuffix(r.URL.Path, "/")))
}
