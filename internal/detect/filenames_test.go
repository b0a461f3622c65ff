package detect

import (
	"slices"
	"testing"
)

// CRS's file-name lists match names, not parts of longer names.
func TestFileNames(t *testing.T) {
	for _, tc := range []struct {
		file, value string
		want        []string
	}{
		{"unix-shell.data", "/fcg-bin/fcg_get_strategy?qzfl", nil},
		{"unix-shell.data", "/fcg_bin/fcg_get_strategy?qzfl", nil},
		{"unix-shell.data", "https://w.example.com/v1/cgi-bin/common/dcreport", nil},
		{"unix-shell.data", ";/bin/fc -l", []string{"bin/fc"}},
		{"unix-shell.data", "x;/usr/bin/python3 -c 'import os'", []string{"bin/python"}},
		{"unix-shell.data", "$(cat /etc/passwd)", []string{"etc/passwd"}},
		{"unix-shell.data", "a${IFS}b", []string{"${IFS}"}},
		{"lfi-os-files.data", "json.__logs__.0.config.credentials", nil},
		{"lfi-os-files.data", "https://www.example.com/auth/account/unified.profile", nil},
		{"lfi-os-files.data", "project[files][tsconfig.json]", nil},
		{"lfi-os-files.data", "../../home/user/.profile", []string{".profile"}},
		{"lfi-os-files.data", "....//....//etc/passwd", []string{"etc/passwd"}},
		{"lfi-os-files.data", "/proc/self/environ", []string{"/proc/", "proc/self/environ"}},
		{"restricted-files.data", "/static/com.example.www.passport-files/js/index.js", nil},
		{"restricted-files.data", "/restapi/18088/getAppConfig.json", nil},
		{"restricted-files.data", "/app/.passwd", []string{".passwd"}},
		{"restricted-files.data", "/get/backup.sql.zip", []string{".sql.z"}},
		{"lfi-os-files.data", "backup.sql.gz", []string{".sql.gz"}},
		{"restricted-files.data", "/www/2.0/config/elective/config.json", []string{"config.json"}},
		{"restricted-files.data", "/npm/react@18.2.0/package.json", []string{"/package.json"}},
	} {
		f, err := loadFileNames(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		got := f.Match(tc.value, 10)
		// Only whether a phrase matched, and which, matter here.
		if len(tc.want) == 0 && len(got) > 0 || len(tc.want) > 0 && !slices.Contains(got, tc.want[0]) {
			t.Errorf("%s: Match(%q) = %q, want %q", tc.file, tc.value, got, tc.want)
		}
	}
}
