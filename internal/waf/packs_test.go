package waf

import (
	"strings"
	"testing"
)

// TestRulePacks: packs load before CRS (after the engine settings and
// path exclusions), their text is in the fingerprint, the include digest
// is not, and a broken pack is reported by name and line.
func TestRulePacks(t *testing.T) {
	pack := RulePack{Name: "patches/CVE-0000-0001.conf", SecLang: `SecRule ARGS:x "@streq 1" "id:9920001,phase:1,deny,status:403,log"` + "\n"}
	fp := func(c Config) *Compiled {
		t.Helper()
		compiled, err := Compile(c)
		if err != nil {
			t.Fatal(err)
		}
		return compiled
	}
	base := fp(Config{})
	with := fp(Config{Packs: []RulePack{pack}})
	s := with.Directives
	if i, j := strings.Index(s, pack.SecLang), strings.Index(s, crsIncludeLine); i < 0 || j < 0 || i > j || i < strings.Index(s, "id:900000") {
		t.Errorf("pack not between the CRS setup and CRS:\n%s", s)
	}
	changed := pack
	changed.SecLang = strings.Replace(pack.SecLang, "@streq 1", "@streq 2", 1)
	if with.Fingerprint == base.Fingerprint || fp(Config{Packs: []RulePack{changed}}).Fingerprint == with.Fingerprint {
		t.Error("a pack or a change in its text left the fingerprint unchanged")
	}
	if fp(Config{Packs: []RulePack{pack}, IncludeDigest: "abc"}).Fingerprint != with.Fingerprint {
		t.Error("the include digest changed the fingerprint (it must only change the adapted config)")
	}
	broken := RulePack{Name: "profiles/x.conf", SecLang: "# ok\nSecRule ARGS:x \"@streq 1\" \"id:9900001,phase:1,pass,nolog\"\nSecRule ARGS:y \"@streq 1\" \"id:9900002,phase:1,bogus\"\n"}
	_, err := New(fp(Config{Packs: []RulePack{pack, broken}}))
	if err == nil || !strings.Contains(err.Error(), "rule pack profiles/x.conf:3") {
		t.Errorf("broken pack: %v, want it named with line 3", err)
	}
}
