package session

import "github.com/mamori-waf/mamori/internal/request"

// Pair is one name=value pair of a request's Cookie header, kept as sent
// (see package request, which splits the header once per request).
type Pair = request.Pair

// ParseCookieHeader splits Cookie header values into pairs (see
// request.ParseCookieHeader).
func ParseCookieHeader(values []string) []Pair { return request.ParseCookieHeader(values) }

// FormatCookieHeader joins pairs back into one Cookie header value.
func FormatCookieHeader(pairs []Pair) string { return request.FormatCookieHeader(pairs) }
