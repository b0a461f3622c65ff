package caddymodule

import (
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/detect"
)

// parseDetection reads mamori's detection layers (internal/detect):
//
//	detection on|off
//	detection <layer> on|off [<layer> on|off]...
//	detection {
//		decode on|off
//		placements on|off
//		signatures on|off
//		promote on|off
//		text_gate on|off
//	}
//
// Every layer is on by default; `detection off` is plain CRS.
func parseDetection(d *caddyfile.Dispenser, o *detect.Options) error {
	if d.NextArg() {
		args := append([]string{d.Val()}, d.RemainingArgs()...)
		if d.NextBlock(d.Nesting()) {
			return d.Err("detection takes on|off, layer settings or a block, not both")
		}
		if len(args) == 1 {
			switch args[0] {
			case "on":
				o.Off = false
			case "off":
				o.Off = true
			default:
				return d.Errf("detection must be on, off, layer settings or a block, not %q", args[0])
			}
			return nil
		}
		// The one-line form: detection decode off placements on ...
		return setLayers(d, o, args)
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		pairs := []string{d.Val()}
		for d.NextArg() {
			if d.Val() == "}" { // the block closes on this line
				d.Prev()
				break
			}
			pairs = append(pairs, d.Val())
		}
		if err := setLayers(d, o, pairs); err != nil {
			return err
		}
	}
	return nil
}

// setLayers applies layer name and value pairs: decode off placements on.
func setLayers(d *caddyfile.Dispenser, o *detect.Options, pairs []string) error {
	if len(pairs)%2 != 0 {
		return d.Errf("detection: each layer takes on or off: %s", strings.Join(pairs, " "))
	}
	for k := 0; k < len(pairs); k += 2 {
		layer, v := pairs[k], pairs[k+1]
		var target **bool
		switch layer {
		case "decode":
			target = &o.Decode
		case "placements":
			target = &o.Placements
		case "signatures":
			target = &o.Signatures
		case "promote":
			target = &o.Promote
		case "text_gate":
			target = &o.TextGate
		default:
			return d.Errf("unknown detection layer %q (decode, placements, signatures, promote, text_gate)", layer)
		}
		b, err := onOff(d, "detection "+layer, v)
		if err != nil {
			return err
		}
		*target = &b
	}
	return nil
}
