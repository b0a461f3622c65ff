package litgate

import (
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"

	"github.com/mamori-waf/mamori/internal/rx"
)

// init registers @rx over internal/rx's (whose init, an import of this
// package, runs first): the same operator behind the gate of the
// expression's required literals.
func init() {
	plugins.RegisterOperator("rx", newRX)
}

type gatedRX struct {
	op   plugintypes.Operator
	gate *Gate
}

func newRX(options plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	op, err := rx.New(options)
	if err != nil {
		return nil, err
	}
	lits, asciiOnly, ok := required("(?sm)" + options.Arguments)
	if !ok {
		return op, nil
	}
	g := newGate(lits, asciiOnly)
	if g == nil {
		return op, nil
	}
	return &gatedRX{op: op, gate: g}, nil
}

func (o *gatedRX) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if !o.gate.Pass(tx, value) {
		return false
	}
	return o.op.Evaluate(tx, value)
}
