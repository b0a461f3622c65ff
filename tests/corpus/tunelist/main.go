// Command tunelist lists the tuning part of a profile corpus (issue 11):
// each entry's name, method, path and field names, so that new entries can
// be written for the classes with few tuning-part entries. Held-out
// entries are never printed, only counted.
//
//	go run ./tests/corpus/tunelist tests/testdata/profiles/wordpress/benign.yaml
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/mamori-waf/mamori/tests/corpus"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tunelist corpus.yaml...")
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		entries, err := corpus.Load(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		held := 0
		for _, e := range entries {
			if !e.Tune() {
				held++
				continue
			}
			var fields []string
			for k := range e.Form {
				fields = append(fields, k)
			}
			sort.Strings(fields)
			body := ""
			switch {
			case e.JSON != "":
				body = "json"
			case e.XML != "":
				body = "xml"
			case e.Body != "":
				body = "body:" + e.ContentType
			}
			var hdrs []string
			for k := range e.Headers {
				hdrs = append(hdrs, k)
			}
			sort.Strings(hdrs)
			fmt.Printf("%s\t%s %s\tsession=%v\t%s %s\thdr=%s\n", e.Name, e.Method, e.Path, e.Session,
				strings.Join(fields, ","), body, strings.Join(hdrs, ","))
		}
		fmt.Printf("# %s: %d tuning-part entries, %d held out (not listed)\n", path, len(entries)-held, held)
	}
}
