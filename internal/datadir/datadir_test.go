package datadir

import "testing"

func TestDefault(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", Fallback},
		{"/data/itiny", "/data/itiny"},
		{"rel/dir", "rel/dir"},
	} {
		t.Setenv(Env, tc.env)
		if got := Default(); got != tc.want {
			t.Errorf("%s=%q: Default() = %q, want %q", Env, tc.env, got, tc.want)
		}
	}
}
