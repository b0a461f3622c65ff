package caddymodule

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/mamori-waf/mamori/internal/detect"
)

// parseDetection reads mamori's detection layers (internal/detect):
//
//	detection on|off
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
		switch d.Val() {
		case "on":
			o.Off = false
		case "off":
			o.Off = true
		default:
			return d.Errf("detection must be on, off or a block, not %q", d.Val())
		}
		if d.NextArg() {
			return d.ArgErr()
		}
		if d.NextBlock(d.Nesting()) {
			return d.Err("detection takes on|off or a block, not both")
		}
		return nil
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		layer := d.Val()
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
		v, err := oneArg(d)
		if err != nil {
			return err
		}
		if v != "on" && v != "off" {
			return d.Errf("detection %s must be on or off, not %q", layer, v)
		}
		b := v == "on"
		*target = &b
	}
	return nil
}
