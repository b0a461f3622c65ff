// Package password checks a new password against the site's policy before
// the CMS stores it (checklist B1, B4, A3): long enough, mixing character
// classes, free of the user ID and of words the operator forbids (the
// company's name), and not a common password, dictionary word or person's
// name. Strength is estimated with zxcvbn (github.com/trustelem/zxcvbn, a
// faithful port of Dropbox's zxcvbn 4.4.2 with its embedded frequency
// lists: 30,000 common passwords, English words from Wikipedia and
// television, US census names and surnames).
//
// Each refusal names exactly one rule: the explicit rules are checked
// first, in the order of the Rule constants, and zxcvbn's verdict comes
// last, split into "mostly one dictionary word" (named after the list that
// matched) and "too guessable" (zxcvbn's score below MinScore).
//
// What it does not do: check passwords the CMS sets by other means (JSON
// APIs, command-line tools, the database), compare the confirmation field
// (the CMS does), or stop a user who picks a strong password and then
// reuses it elsewhere.
package password

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
)

// Policy is the password policy's configuration. The zero value is the
// checklist's policy: 8 characters, 3 of 4 classes, no user ID, no common
// password, dictionary word or name, zxcvbn score 2 or more.
type Policy struct {
	// Off turns the policy off (it is on whenever a profile names
	// password forms).
	Off bool `json:"off,omitempty"`
	// MinLength is the fewest characters (Unicode code points) a new
	// password may have. Default 8.
	MinLength int `json:"min_length,omitempty"`
	// MinClasses is how many of the four classes (lower-case letters,
	// upper-case letters, digits, and everything else: symbols, spaces,
	// letters without case such as kana and kanji) a new password must
	// mix. 1 to 4, default 3.
	MinClasses int `json:"min_classes,omitempty"`
	// Words are words a password must not contain, in any case or with
	// common letter-for-digit substitutions: the company's, the site's and
	// the product's names. Words shorter than 3 characters are refused at
	// load.
	Words []string `json:"words,omitempty"`
	// WordsFile is a file of more such words, one a line; blank lines and
	// lines starting with # are ignored.
	WordsFile string `json:"words_file,omitempty"`
	// MinScore is the lowest zxcvbn score (0 to 4) accepted. Default 2
	// (more than a million guesses). 3 means more than 10^8 guesses,
	// which no 8-character password reaches: raise MinLength with it.
	MinScore *int `json:"min_score,omitempty"`
}

// Defaults.
const (
	DefaultMinLength  = 8
	DefaultMinClasses = 3
	DefaultMinScore   = 2
	// minWord is the shortest user ID or forbidden word looked for inside
	// a password: shorter ones would refuse half of all passwords.
	minWord = 3
	// maxEstimate is how many leading characters zxcvbn examines: its
	// matching is quadratic, and a password longer than this is not
	// guessable by dictionary anyway (Dropbox's own advice).
	maxEstimate = 100
)

// Rules a refusal names, in the order they are checked.
const (
	RuleTooShort       = "password-too-short"
	RuleTooFewClasses  = "password-too-few-classes"
	RuleContainsUser   = "password-contains-user-id"
	RuleContainsWord   = "password-contains-forbidden-word"
	RuleCommonPassword = "password-common"
	RuleDictionaryWord = "password-dictionary-word"
	RulePersonName     = "password-person-name"
	RuleGuessable      = "password-guessable"
)

// Checker applies a compiled policy. It is safe for concurrent use.
type Checker struct {
	minLength, minClasses, minScore int
	words                           []string // lower case
}

// Compile validates the policy and loads its word file.
func (p Policy) Compile() (*Checker, error) {
	c := &Checker{minLength: p.MinLength, minClasses: p.MinClasses, minScore: DefaultMinScore}
	if c.minLength == 0 {
		c.minLength = DefaultMinLength
	}
	if c.minLength < 1 || c.minLength > 1024 {
		return nil, fmt.Errorf("min_length must be 1 to 1024, not %d", p.MinLength)
	}
	if c.minClasses == 0 {
		c.minClasses = DefaultMinClasses
	}
	if c.minClasses < 1 || c.minClasses > 4 {
		return nil, fmt.Errorf("min_classes must be 1 to 4, not %d", p.MinClasses)
	}
	if p.MinScore != nil {
		if *p.MinScore < 0 || *p.MinScore > 4 {
			return nil, fmt.Errorf("min_score must be 0 to 4, not %d", *p.MinScore)
		}
		c.minScore = *p.MinScore
	}
	words := append([]string(nil), p.Words...)
	if p.WordsFile != "" {
		f, err := os.Open(p.WordsFile)
		if err != nil {
			return nil, fmt.Errorf("words_file: %w", err)
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		for line := 1; s.Scan(); line++ {
			w := strings.TrimSpace(s.Text())
			if w == "" || strings.HasPrefix(w, "#") {
				continue
			}
			if utf8.RuneCountInString(w) < minWord {
				return nil, fmt.Errorf("words_file %s:%d: %q is shorter than %d characters", p.WordsFile, line, w, minWord)
			}
			words = append(words, w)
		}
		if err := s.Err(); err != nil {
			return nil, fmt.Errorf("words_file %s: %w", p.WordsFile, err)
		}
	}
	for _, w := range words {
		if utf8.RuneCountInString(strings.TrimSpace(w)) < minWord {
			return nil, fmt.Errorf("words: %q is shorter than %d characters", w, minWord)
		}
		c.words = append(c.words, strings.ToLower(strings.TrimSpace(w)))
	}
	return c, nil
}

// MinLength and MinClasses are the compiled limits, for messages.
func (c *Checker) MinLength() int  { return c.minLength }
func (c *Checker) MinClasses() int { return c.minClasses }

// Violation is a failed rule; the zero value means the password passed.
type Violation struct {
	// Rule is one of the Rule constants.
	Rule string
	// Detail explains the rule for the event; it never holds the password.
	Detail string
}

// OK reports a password that passed.
func (v Violation) OK() bool { return v.Rule == "" }

// Check applies the policy to a new password. users are the account's
// names (form field, session cookie); empty ones are ignored.
func (c *Checker) Check(pw string, users ...string) Violation {
	if n := utf8.RuneCountInString(pw); n < c.minLength {
		return Violation{RuleTooShort, fmt.Sprintf("%d characters, at least %d required", n, c.minLength)}
	}
	if n := Classes(pw); n < c.minClasses {
		return Violation{RuleTooFewClasses, fmt.Sprintf("%d character classes, at least %d required", n, c.minClasses)}
	}
	forms := variants(pw)
	var inputs []string
	isUser := map[string]bool{}
	for _, u := range users {
		for _, name := range userNames(u) {
			if containsAny(forms, name) {
				return Violation{RuleContainsUser, "contains the user ID"}
			}
			inputs = append(inputs, name)
			isUser[name] = true
		}
	}
	for _, w := range c.words {
		if containsAny(forms, w) {
			return Violation{RuleContainsWord, "contains a forbidden word"}
		}
	}
	inputs = append(inputs, c.words...)

	est := strings.ToValidUTF8(pw, "\uFFFD")
	if utf8.RuneCountInString(est) > maxEstimate {
		est = string([]rune(est)[:maxEstimate])
	}
	res := zxcvbn.PasswordStrength(est, inputs)
	total := utf8.RuneCountInString(est)
	for _, m := range res.Sequence {
		if m.Pattern != "dictionary" {
			continue
		}
		if m.DictionaryName == "user_inputs" {
			// Spelled in a way the explicit checks do not undo: reversed,
			// or with rarer substitutions.
			if isUser[m.MatchedWord] {
				return Violation{RuleContainsUser, "contains the user ID (" + how(m.Reversed, m.L33t) + ")"}
			}
			return Violation{RuleContainsWord, "contains a forbidden word (" + how(m.Reversed, m.L33t) + ")"}
		}
		// A password that is mostly one listed word, give or take a few
		// digits and symbols, falls to the first guesses of any cracker.
		if 2*utf8.RuneCountInString(m.Token) < total {
			continue
		}
		switch m.DictionaryName {
		case "passwords":
			return Violation{RuleCommonPassword, fmt.Sprintf("mostly a common password (rank %d)", m.Rank)}
		case "female_names", "male_names", "surnames":
			return Violation{RulePersonName, "mostly a person's name (" + m.DictionaryName + ")"}
		case "english_wikipedia", "us_tv_and_film":
			return Violation{RuleDictionaryWord, "mostly a dictionary word (" + m.DictionaryName + ")"}
		}
	}
	if res.Score < c.minScore {
		return Violation{RuleGuessable, fmt.Sprintf("zxcvbn score %d, at least %d required", res.Score, c.minScore)}
	}
	return Violation{}
}

func how(reversed, l33t bool) string {
	switch {
	case reversed:
		return "reversed"
	case l33t:
		return "with substitutions"
	}
	return "as is"
}

// Classes counts the character classes in pw: lower-case letters,
// upper-case (and title-case) letters, decimal digits, and everything
// else.
func Classes(pw string) int {
	var lower, upper, digit, other int
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return lower + upper + digit + other
}

// leet undoes the common letter-for-digit substitutions, each way a
// digit can be read.
var leet = []*strings.Replacer{
	strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "i", "|", "l", "8", "b", "9", "g"),
	strings.NewReplacer("0", "o", "1", "l", "3", "e", "4", "a", "5", "s", "7", "t", "@", "a", "$", "s", "!", "l", "|", "i", "8", "b", "9", "g"),
}

// variants are the lower-case password, its de-substituted readings, and
// all of them reversed.
func variants(pw string) []string {
	l := strings.ToLower(pw)
	out := []string{l}
	for _, r := range leet {
		out = append(out, r.Replace(l))
	}
	for _, v := range out[:len(out):len(out)] {
		out = append(out, reverse(v))
	}
	return out
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// userNames are the parts of an account name worth looking for: the
// name, and the local part of an e-mail address.
func userNames(u string) []string {
	u = strings.ToLower(strings.TrimSpace(u))
	var out []string
	if utf8.RuneCountInString(u) >= minWord {
		out = append(out, u)
	}
	if local, _, ok := strings.Cut(u, "@"); ok && local != u && utf8.RuneCountInString(local) >= minWord {
		out = append(out, local)
	}
	return out
}

func containsAny(haystacks []string, needle string) bool {
	if needle == "" {
		return false
	}
	for _, h := range haystacks {
		if strings.Contains(h, needle) {
			return true
		}
	}
	return false
}
