package password

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

// B1/B4: every rule, in order, each refusal naming exactly one rule.
func TestCheck(t *testing.T) {
	std, err := Policy{Words: []string{"Acme", "mamori"}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	long, err := Policy{MinLength: 12, MinClasses: 4, MinScore: intp(3)}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	lax, err := Policy{MinClasses: 1, MinScore: intp(0)}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		checker *Checker
		pw      string
		users   []string
		rule    string
	}{
		{name: "strong_passes", pw: "Tokyo-Blue-42"},
		{name: "passphrase_passes", pw: "correct-Horse-42"},
		{name: "random_8_passes", pw: "Kx9#mTq2"},
		{name: "empty_too_short", pw: "", rule: RuleTooShort},
		{name: "seven_too_short", pw: "Kx9#mTq", rule: RuleTooShort},
		{name: "length_counts_characters_not_bytes", pw: "Ab1!日本語", rule: RuleTooShort},
		{name: "multibyte_eight_characters_pass_length", pw: "Ab1!日本語字", rule: ""},
		{name: "lower_only_too_few_classes", pw: "qzxvbnmlkj", rule: RuleTooFewClasses},
		{name: "lower_upper_too_few_classes", pw: "qzXvBnMlKj", rule: RuleTooFewClasses},
		{name: "lower_digit_too_few_classes", pw: "qzx7bn4lkj", rule: RuleTooFewClasses},
		{name: "lower_upper_digit_passes_classes", pw: "qzX7bN4lKj", rule: ""},
		{name: "lower_digit_symbol_passes_classes", pw: "qz#7bn4!kj", rule: ""},
		{name: "unicode_upper_counts", pw: "ÉÀÜ7bn4lkj", rule: ""},
		{name: "kanji_count_as_other", pw: "qzx7bn4山川", rule: ""},
		{name: "space_counts_as_other", pw: "qzx7 bn4lkj", rule: ""},
		{name: "contains_user", pw: "Melody#Xq82", users: []string{"melody"}, rule: RuleContainsUser},
		{name: "contains_user_any_case", pw: "xMELODY#q82", users: []string{"Melody"}, rule: RuleContainsUser},
		{name: "contains_user_leet", pw: "M3l0dy#Xq82", users: []string{"melody"}, rule: RuleContainsUser},
		{name: "contains_user_reversed", pw: "Ydolem#Xq82", users: []string{"melody"}, rule: RuleContainsUser},
		{name: "contains_email_local_part", pw: "Jsmith!Zq81", users: []string{"jsmith@example.com"}, rule: RuleContainsUser},
		{name: "short_user_not_looked_for", pw: "Kx9#mTq2ab", users: []string{"ab"}, rule: ""},
		{name: "second_user_source_counts", pw: "Xq82#Admin", users: []string{"", "admin"}, rule: RuleContainsUser},
		{name: "contains_company", pw: "Acme#2024xQ", rule: RuleContainsWord},
		{name: "contains_company_leet", pw: "Xq#@cm3-2024", rule: RuleContainsWord},
		{name: "contains_word_reversed", pw: "Irom@m-Xq81", rule: RuleContainsWord},
		{name: "user_checked_before_words", pw: "acme-Melody-7", users: []string{"melody"}, rule: RuleContainsUser},
		{name: "common_password", pw: "Password1!", rule: RuleCommonPassword},
		{name: "common_password_keyboard", pw: "Qwerty123!", rule: RuleCommonPassword},
		{name: "common_password_word_plus_year", pw: "Summer2024!", rule: RuleCommonPassword},
		{name: "dictionary_word", pw: "Understanding1!", rule: RuleDictionaryWord},
		{name: "person_name", pw: "Michael#2020", rule: RulePersonName},
		{name: "surname", pw: "Nelson-1999!", rule: RulePersonName},
		{name: "common_password_sequence", pw: "Abc123!@#", rule: RuleCommonPassword},
		{name: "guessable_repeat", pw: "Aa1!Aa1!Aa1!", rule: RuleGuessable},
		{name: "score_threshold_configurable", checker: long, pw: "Kx9#mTq2Zp4!", rule: ""},
		{name: "long_policy_too_short", checker: long, pw: "Kx9#mTq2Zp4", rule: RuleTooShort},
		{name: "long_policy_four_classes", checker: long, pw: "Kx9mTq2Zp4ab", rule: RuleTooFewClasses},
		{name: "lax_policy_one_class_passes", checker: lax, pw: "qzxvbnmlkj", rule: ""},
		{name: "long_input_passes", pw: strings.Repeat("Kx9#mTq2", 5000)},
		{name: "long_common_password_prefix_still_long", pw: "Password1!" + strings.Repeat("x", 200), rule: ""},
		{name: "invalid_utf8_checked_not_panicking", pw: "Kx9#\xff\xfemTq2", rule: ""},
		{name: "nul_bytes", pw: "Kx9#\x00mTq2", rule: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch := std
			if c.checker != nil {
				ch = c.checker
			}
			v := ch.Check(c.pw, c.users...)
			if v.Rule != c.rule {
				t.Fatalf("rule %q (%s), want %q", v.Rule, v.Detail, c.rule)
			}
			if c.pw != "" && len(c.pw) > 3 && strings.Contains(v.Detail, c.pw) {
				t.Fatalf("detail %q holds the password", v.Detail)
			}
		})
	}
}

func TestMessagesNameTheRule(t *testing.T) {
	c, err := Policy{MinLength: 10, MinClasses: 4}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	rules := []string{RuleTooShort, RuleTooFewClasses, RuleContainsUser, RuleContainsWord, RuleCommonPassword, RuleDictionaryWord, RulePersonName, RuleGuessable}
	seen := map[string]bool{}
	for _, lang := range []string{"en", "ja"} {
		for _, r := range rules {
			title, text := c.Message(r, lang)
			if title == "" || text == "" || seen[text] {
				t.Errorf("%s %s: title %q text %q (empty or not unique)", lang, r, title, text)
			}
			seen[text] = true
		}
	}
	if _, text := c.Message(RuleTooShort, "en"); !strings.Contains(text, "10 characters") {
		t.Errorf("too short: %q", text)
	}
	if _, text := c.Message(RuleTooFewClasses, "ja"); !strings.Contains(text, "4種類") {
		t.Errorf("classes ja: %q", text)
	}
	if _, text := c.Message(RuleTooShort, "fr"); !strings.Contains(text, "at least") {
		t.Errorf("unknown language falls back to English: %q", text)
	}
}

func TestCompileErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.txt")
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(short, []byte("# names\nacme\nab\n"), 0o600)
	os.WriteFile(good, []byte("# names\n\nExampleCorp\n  tanuki  \n"), 0o600)
	for name, p := range map[string]Policy{
		"negative_length":    {MinLength: -1},
		"huge_length":        {MinLength: 5000},
		"classes_5":          {MinClasses: 5},
		"score_5":            {MinScore: intp(5)},
		"score_negative":     {MinScore: intp(-1)},
		"short_word":         {Words: []string{"ab"}},
		"missing_file":       {WordsFile: filepath.Join(dir, "missing")},
		"short_word_in_file": {WordsFile: short},
	} {
		if _, err := p.Compile(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c, err := Policy{WordsFile: good}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if v := c.Check("Xq#Tanuki-81"); v.Rule != RuleContainsWord {
		t.Errorf("word from file: %+v", v)
	}
	if v := c.Check("Xq#examplecorp-81"); v.Rule != RuleContainsWord {
		t.Errorf("word from file: %+v", v)
	}
}

func TestClasses(t *testing.T) {
	for pw, want := range map[string]int{"": 0, "a": 1, "aA": 2, "aA1": 3, "aA1!": 4, "日本": 1, "ǅ": 1, "٣": 1, "\xff": 1} {
		if got := Classes(pw); got != want {
			t.Errorf("Classes(%q) = %d, want %d", pw, got, want)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	c, _ := Policy{Words: []string{"acme"}}.Compile()
	b.ReportAllocs()
	for b.Loop() {
		c.Check("Tokyo-Blue-42", "melody")
	}
}
