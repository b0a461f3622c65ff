package waf

import "io"

// BufferedRequestBody returns a new reader over the request body the WAF
// buffered in ProcessRequest, when it holds the whole body. Later guards
// (the password policy) read the form from it instead of reading and
// buffering the body a second time; the reader has its own position, so
// the upstream still gets every byte.
func (t *Transaction) BufferedRequestBody() (io.Reader, bool) {
	if !t.bodyBuffered {
		return nil, false
	}
	r, err := t.tx.RequestBodyReader()
	if err != nil {
		return nil, false
	}
	return r, true
}
