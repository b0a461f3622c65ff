package headers

import (
	"net/http"

	"github.com/mamori-waf/mamori/internal/request"
)

// Respond checks and completes the headers of a final response just
// before they are sent (mamori's response writer calls it for every
// answer, the upstream's and mamori's own): a header holding CR, LF or
// NUL (CheckResponse) or an open redirect (CheckRedirect, on request r
// as the CMS read it, v) refuses the response, with the error saying
// why; otherwise the policy is applied (Apply). Informational responses
// other than 101 are not final and pass unchecked.
func (c *Compiled) Respond(status int, h http.Header, https bool, r *http.Request, v *request.View) error {
	if status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols {
		return nil
	}
	err := CheckResponse(h)
	if err == nil && r != nil {
		err = c.CheckRedirect(status, h, r, v)
	}
	if err != nil {
		return err
	}
	c.Apply(h, https)
	return nil
}
