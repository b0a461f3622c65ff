// Package form reads form fields the way the CMSs behind mamori read them,
// not the way net/url does: Movable Type (Perl CGI.pm) and PHP split pairs
// on "&" and ";" and decode percent-escapes in names as well as values.
// A guard that read the stricter way would miss, or refuse, a field the
// CMS accepts: net/url.ParseQuery rejects any ";" pair outright.
package form

import (
	"bufio"
	"io"
	"net/url"
)

// ScanURLEncoded reads name=value pairs separated by "&" or ";" from rd
// and adds the decoded values of the names want accepts (every name when
// want is nil) to out. Names longer than maxKey bytes (encoded; 0: no
// limit) are skipped; values are cut at maxValue bytes (encoded). An
// escape that does not decode is kept as sent, as CGI.pm does. Only a read
// error is returned.
func ScanURLEncoded(rd io.Reader, want func(name string) bool, maxKey, maxValue int, out url.Values) error {
	br := bufio.NewReader(rd)
	var key, val []byte
	inValue, skip := false, false
	flush := func() {
		if !skip && len(key) > 0 {
			k, err := url.QueryUnescape(string(key))
			if err != nil {
				k = string(key)
			}
			if want == nil || want(k) {
				v, err := url.QueryUnescape(string(val))
				if err != nil {
					v = string(val) // a value cut mid-escape, or a stray %
				}
				out[k] = append(out[k], v)
			}
		}
		key, val, inValue, skip = key[:0], val[:0], false, false
	}
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case b == '&' || b == ';':
			flush()
		case !inValue && b == '=':
			inValue = true
		case !inValue:
			if maxKey <= 0 || len(key) < maxKey {
				key = append(key, b)
			} else {
				skip = true
			}
		case len(val) < maxValue:
			val = append(val, b)
		}
	}
}
