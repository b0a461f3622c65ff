// Command crsfiles writes the OWASP CRS files embedded in the
// coraza-coreruleset module (the very rules mamori and coraza-caddy load)
// to a directory, for the load benchmark's nginx + ModSecurity peer
// (tests/bench/run.sh):
//
//	crsfiles -out DIR   # DIR/@crs-setup.conf.example, DIR/@owasp_crs/*.conf, *.data
package main

import (
	"flag"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

func main() {
	out := flag.String("out", "", "directory to write the rule files to (must exist)")
	flag.Parse()
	if *out == "" {
		log.Fatal("crsfiles: -out is required")
	}
	err := fs.WalkDir(coreruleset.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(*out, filepath.FromSlash(name))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(coreruleset.FS, name)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		log.Fatalf("crsfiles: %v", err)
	}
}
