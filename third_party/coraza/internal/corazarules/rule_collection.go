// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

package corazarules

import "sync/atomic"

// ruleCollectionRead is set once anything in the process may read the RULE
// collection: a macro naming it (%{rule.msg}), a rule targeting it, or a
// plugin asking the transaction for it. Until then, rule evaluation skips
// expanding every evaluated rule's msg and logdata into RULE, which nothing
// would read (the expansion for matched rules' logs is separate).
var ruleCollectionRead atomic.Bool

// MarkRuleCollectionRead records that the RULE collection may be read.
func MarkRuleCollectionRead() { ruleCollectionRead.Store(true) }

// RuleCollectionRead reports whether the RULE collection may be read.
func RuleCollectionRead() bool { return ruleCollectionRead.Load() }
