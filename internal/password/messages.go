package password

import "fmt"

// Message is what the refused user reads: which rule the new password
// broke, in lang ("en" or "ja"), followed by what to do.
func (c *Checker) Message(rule, lang string) (title, text string) {
	m, ok := messages[lang]
	if !ok {
		m = messages["en"]
	}
	var why string
	switch rule {
	case RuleTooShort:
		why = fmt.Sprintf(m.rules[rule], c.minLength)
	case RuleTooFewClasses:
		why = fmt.Sprintf(m.rules[rule], c.minClasses)
	default:
		why = m.rules[rule]
	}
	if why == "" {
		why = m.rules[RuleGuessable]
	}
	return m.title, why + " " + m.next
}

type catalogue struct {
	title, next string
	rules       map[string]string
}

var messages = map[string]catalogue{
	"en": {
		title: "Password not accepted",
		next:  "Nothing was changed. Go back and choose another password.",
		rules: map[string]string{
			RuleTooShort:       "The new password must be at least %d characters long.",
			RuleTooFewClasses:  "The new password must mix at least %d of these: lower-case letters, upper-case letters, digits, symbols.",
			RuleContainsUser:   "The new password must not contain the user ID.",
			RuleContainsWord:   "The new password must not contain the company's or the site's name, or another word this site forbids.",
			RuleCommonPassword: "The new password is a commonly used password, or one with small changes.",
			RuleDictionaryWord: "The new password is mostly a dictionary word.",
			RulePersonName:     "The new password is mostly a person's name.",
			RuleGuessable:      "The new password is easy to guess (a sequence, a keyboard pattern, a repetition or a date).",
		},
	},
	"ja": {
		title: "このパスワードは使用できません",
		next:  "変更は行われていません。前の画面に戻り、別のパスワードを設定してください。",
		rules: map[string]string{
			RuleTooShort:       "新しいパスワードは%d文字以上にしてください。",
			RuleTooFewClasses:  "新しいパスワードには、英小文字・英大文字・数字・記号のうち%d種類以上を含めてください。",
			RuleContainsUser:   "新しいパスワードにユーザーIDを含めないでください。",
			RuleContainsWord:   "新しいパスワードに会社名・サイト名など、このサイトで禁止されている語を含めないでください。",
			RuleCommonPassword: "新しいパスワードは、よく使われるパスワード（またはその一部を変えただけのもの）です。",
			RuleDictionaryWord: "新しいパスワードの大部分が辞書に載っている単語です。",
			RulePersonName:     "新しいパスワードの大部分が人名です。",
			RuleGuessable:      "新しいパスワードは推測されやすいもの（連続した文字、キーボードの並び、繰り返し、日付など）です。",
		},
	},
}
