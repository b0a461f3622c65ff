package session

import (
	"errors"
	"strings"
	"testing"
)

func TestFindingDescribe(t *testing.T) {
	for _, tc := range []struct {
		f    Finding
		want string
	}{
		{Finding{Cookie: "mt_user", Reason: ReasonForged}, "cookie mt_user was not sealed by this proxy (forged or planted: session fixation); removed"},
		{Finding{Cookie: "mt_user", Reason: ReasonBinding}, "sealed for another client"},
		{Finding{Cookie: "a", Reason: ReasonExpired}, "older than the absolute timeout"},
		{Finding{Cookie: "a", Reason: ReasonIdle}, "idle longer than the idle timeout"},
		{Finding{Cookie: "a", Reason: ReasonRevoked}, "logged out"},
		{Finding{Cookie: "a", Reason: ReasonStoreUnavailable, Err: errors.New("down"), Kept: true}, "(down); kept (redis_failure open)"},
		{Finding{Cookie: "a", Reason: ReasonStoreUnavailable, Err: errors.New("down")}, "(down); removed (redis_failure closed)"},
		{Finding{Cookie: "a", Reason: "other"}, "other"},
	} {
		if got := tc.f.Describe(); !strings.Contains(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}
