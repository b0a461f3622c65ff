// Command upstream is the origin server for the mamori load benchmark
// (tests/bench/run.sh). It uses the standard library only and serves:
//
//	GET  /page  an 8 KiB benign, deterministic text/html page
//	POST /form  reads the whole request body, answers a small text/html "ok"
//	anything else: a small text/html "ok"
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// pageSize is the exact size of the /page body.
const pageSize = 8 * 1024

var okBody = []byte("<!DOCTYPE html>\n<html><head><title>ok</title></head><body><p>ok</p></body></html>\n")

// paragraphs is ordinary prose; the page repeats it (numbered) until it is
// pageSize bytes long.
var paragraphs = []string{
	"The community garden opens every Saturday morning from early spring until the first frost. Volunteers water the raised beds, turn the compost and share seedlings with new members.",
	"This season we planted tomatoes, beans, squash and a long row of sunflowers along the fence. The children's corner has strawberries, mint and a small herb spiral.",
	"Tools are kept in the green shed next to the gate. Please clean the spades and rakes after use and hang them back on their hooks so the next person can find them.",
	"Our monthly potluck takes place on the last Sunday of the month under the old walnut tree. Bring a dish to share, a blanket to sit on and a friend who likes good food.",
	"Rainwater from the roof of the shed is collected in two large barrels. During dry weeks we rely on this water, so remember to close the tap when you are done.",
	"Workshops this autumn cover seed saving, pruning fruit trees, building a simple cold frame and making leaf mould. Everyone is welcome and no experience is needed.",
}

func buildPage() []byte {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>Riverside Community Garden - News</title>\n")
	b.WriteString("<link rel=\"stylesheet\" href=\"/static/site.css\">\n</head>\n<body>\n")
	b.WriteString("<header><h1>Riverside Community Garden</h1>\n<nav><ul>")
	for _, item := range []string{"Home", "News", "Events", "Members", "Contact"} {
		fmt.Fprintf(&b, "<li><a href=\"/%s\">%s</a></li>", strings.ToLower(item), item)
	}
	b.WriteString("</ul></nav></header>\n<main>\n")
	const tail = "</main>\n<footer><p>Riverside Community Garden, 12 Mill Lane. See you in the beds!</p></footer>\n</body>\n</html>\n"
	for i := 0; ; i++ {
		p := fmt.Sprintf("<article id=\"news-%d\"><h2>Garden note %d</h2><p>%s</p></article>\n", i+1, i+1, paragraphs[i%len(paragraphs)])
		if b.Len()+len(p)+len(tail) > pageSize {
			break
		}
		b.WriteString(p)
	}
	// Pad with an HTML comment (or newlines) so the body is exactly pageSize bytes.
	switch pad := pageSize - b.Len() - len(tail); {
	case pad >= 8:
		b.WriteString("<!--" + strings.Repeat(" ", pad-8) + "-->\n")
	case pad > 0:
		b.WriteString(strings.Repeat("\n", pad))
	}
	b.WriteString(tail)
	return []byte(b.String())
}

func writeHTML(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func main() {
	addr := flag.String("listen", "127.0.0.1:18080", "listen address")
	flag.Parse()

	page := buildPage()
	if len(page) != pageSize {
		log.Fatalf("page is %d bytes, want %d", len(page), pageSize)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		writeHTML(w, page)
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		writeHTML(w, okBody)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeHTML(w, okBody)
	})

	srv := &http.Server{
		Addr:              *addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Printf("upstream listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}
