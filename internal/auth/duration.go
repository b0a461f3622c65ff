package auth

import "github.com/mamori-waf/mamori/internal/duration"

// Duration is a time.Duration written in JSON as "15m".
type Duration = duration.Duration
