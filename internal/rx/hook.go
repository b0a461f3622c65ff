package rx

import "github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"

// New is the @rx operator's constructor, for a wrapper registered over it:
// internal/litgate skips, for long values, expressions whose required
// literals one shared scan of the value did not find, then calls this
// operator.
func New(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	return newRX(options)
}
