// Copyright 2022 Juan Pablo Tosso and the OWASP Coraza contributors
// SPDX-License-Identifier: Apache-2.0

package corazawaf

import (
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/corazawaf/coraza/v3/internal/corazarules"
	"github.com/corazawaf/coraza/v3/internal/corazatypes"
	utils "github.com/corazawaf/coraza/v3/internal/strings"
	"github.com/corazawaf/coraza/v3/types"
)

// RuleGroup is a collection of rules
// It contains all helpers required to manage the rules
// It is not concurrent safe, so it's not recommended to use it
// after compilation
type RuleGroup struct {
	rules    []Rule
	observer func(rule types.RuleMetadata)
	// byTag indexes the rules' IDs by tag (RuleIDsByTag); replaced when
	// rules are added or deleted, built once on first use.
	byTag *tagIndex
}

type tagIndex struct {
	once sync.Once
	ids  map[string][]int
}

// RuleIDsByTag returns the IDs of the rules tagged tag, in rule order: what
// ctl:ruleRemoveByTag and ctl:ruleRemoveTargetByTag look up per request,
// which walked every rule's tags.
func (rg *RuleGroup) RuleIDsByTag(tag string) []int {
	ti := rg.byTag
	if ti == nil {
		var ids []int
		for i := range rg.rules {
			if utils.InSlice(tag, rg.rules[i].Tags_) {
				ids = append(ids, rg.rules[i].ID_)
			}
		}
		return ids
	}
	ti.once.Do(func() {
		ti.ids = map[string][]int{}
		for i := range rg.rules {
			r := &rg.rules[i]
			for j, t := range r.Tags_ {
				if !utils.InSlice(t, r.Tags_[:j]) {
					ti.ids[t] = append(ti.ids[t], r.ID_)
				}
			}
		}
	})
	return ti.ids[tag]
}

// Add a rule to the collection
// Will return an error if the ID is already used
func (rg *RuleGroup) Add(rule *Rule) error {
	if rule == nil {
		// this is an ugly solution but chains should not return rules
		return nil
	}

	if shouldDoMandatoryRuleIdCheck {
		// rule id is mandatory and must be unique ID for all SecRule/SecAction.
		if rule.SecMark_ == "" { // means its SecRule/SecAction
			if rule.ID_ == 0 {
				return fmt.Errorf("rule id is missing, rule residing in file %s at line %d", rule.File_, rule.Line_)
			}
			if rg.FindByID(rule.ID_) != nil {
				return fmt.Errorf("duplicated rule id %d", rule.ID_)
			}
		}
	} else {
		// rule id is not mandatory, but if it is set, it must be unique ID
		if rule.ID_ != 0 && rg.FindByID(rule.ID_) != nil {
			return fmt.Errorf("duplicated rule id %d", rule.ID_)
		}
	}

	numInferred := 0
	rule.set(rule.Phase_)
	for _, v := range rule.variables {
		min := minPhase(v.Variable)
		if min != types.PhaseUnknown {
			// We infer the earliest phase a variable used by the rule may be evaluated for use when
			// multiphase evaluation is enabled
			rule.set(min)
			numInferred++
		} else {
			rule.withPhaseUnknownVariable = true
		}
	}

	rg.rules = append(rg.rules, *rule)
	rg.byTag = &tagIndex{}

	if rg.observer != nil {
		rg.observer(rule)
	}

	return nil
}

// SetObserver assigns the observer function to the group.
func (rg *RuleGroup) SetObserver(observer func(rule types.RuleMetadata)) {
	rg.observer = observer
}

// GetRules returns the slice of rules,
func (rg *RuleGroup) GetRules() []Rule {
	return rg.rules
}

// FindByID return a Rule with the requested Id
func (rg *RuleGroup) FindByID(id int) *Rule {
	for i, r := range rg.rules {
		if r.ID_ == id {
			return &rg.rules[i]
		}
	}
	return nil
}

// DiscardPendingChain removes the last rule from the group when it is an open
// chain starter (HasChain=true). Called when a chain-member parse fails so the
// partial chain is not left in the rule graph.
func (rg *RuleGroup) DiscardPendingChain() {
	last := len(rg.rules) - 1
	if last >= 0 && rg.rules[last].HasChain {
		rg.rules = rg.rules[:last]
		rg.byTag = &tagIndex{}
	}
}

// DeleteByID removes a rule by its ID
func (rg *RuleGroup) DeleteByID(id int) {
	for i, r := range rg.rules {
		if r.ID_ == id {
			rg.rules = append(rg.rules[:i], rg.rules[i+1:]...)
			rg.byTag = &tagIndex{}
			return
		}
	}
}

// DeleteByRange removes rules by their ID in a range
func (rg *RuleGroup) DeleteByRange(start, end int) {
	var kept []Rule
	for _, r := range rg.rules {
		if r.ID_ < start || r.ID_ > end {
			kept = append(kept, r)
		}
	}
	rg.rules = kept
	rg.byTag = &tagIndex{}
}

// DeleteByMsg deletes rules with the given message.
func (rg *RuleGroup) DeleteByMsg(msg string) {
	var kept []Rule
	for _, r := range rg.rules {
		if r.Msg.String() != msg {
			kept = append(kept, r)
		}
	}
	rg.rules = kept
	rg.byTag = &tagIndex{}
}

// DeleteByTag deletes rules with the given tag.
func (rg *RuleGroup) DeleteByTag(tag string) {
	var kept []Rule
	for _, r := range rg.rules {
		if !utils.InSlice(tag, r.Tags_) {
			kept = append(kept, r)
		}
	}
	rg.rules = kept
	rg.byTag = &tagIndex{}
}

// Count returns the count of rules
func (rg *RuleGroup) Count() int {
	return len(rg.rules)
}

// Eval rules for the specified phase, between 1 and 5
// Rules are evaluated in syntactic order and the evaluation finishes
// as soon as an interruption has been triggered.
// Returns true if transaction is disrupted
func (rg *RuleGroup) Eval(phase types.RulePhase, tx *Transaction) bool {
	tx.DebugLogger().Debug().
		Int("phase", int(phase)).
		Msg("Evaluating phase")

	tx.lastPhase = phase
	usedRules := 0
	ts := time.Now().UnixNano()
	transformationCache := &tx.transformationCache
	transformationCache.reset()
	tx.clearFieldCache()
RulesLoop:
	for i := range rg.rules {
		r := &rg.rules[i]
		// if there is already an interruption and the phase isn't logging
		// we break the loop
		if tx.IsInterrupted() && phase != types.PhaseLogging {
			break RulesLoop
		}
		// Rules with phase 0 will always run
		if r.Phase_ != 0 && r.Phase_ != phase {
			// Execute the rule in inferred phases too if multiphase evaluation is enabled
			// For chained rules, inferredPhases is not relevant, we rather have to run from minimal potentially
			// matchable phase up to the rule's defined phase (chainMinPhase <= phase <= Phase_)
			// At the first run chainMinPhase is not set, so we look at the parent chain rule's minimal phase.
			// If it is not reached, we skip the whole chain, there is no chance to match it.
			if !multiphaseEvaluation ||
				(!r.HasChain && !r.has(phase)) ||
				(r.HasChain && phase < r.chainMinPhase) ||
				(r.HasChain && !r.hasOrMinor(phase) && !r.withPhaseUnknownVariable) ||
				(r.HasChain && phase > r.Phase_) {
				continue
			}
		}

		// we skip the rule in case it's in the excluded list
		if _, skip := tx.ruleRemoveByID[r.ID_]; skip {
			tx.DebugLogger().Debug().
				Int("rule_id", r.ID_).
				Msg("Skipping rule")
			continue RulesLoop
		}
		for _, rng := range tx.ruleRemoveByIDRanges {
			if r.ID_ >= rng[0] && r.ID_ <= rng[1] {
				tx.DebugLogger().Debug().
					Int("rule_id", r.ID_).
					Msg("Skipping rule")
				continue RulesLoop
			}
		}

		// we always evaluate secmarkers
		if tx.SkipAfter != "" {
			if r.SecMark_ == tx.SkipAfter {
				tx.SkipAfter = ""
			} else {
				tx.DebugLogger().Debug().
					Int("rule_id", r.ID_).
					Str("skip_after", tx.SkipAfter).
					Str("secmarker", r.SecMark_).
					Msg("Skipping rule because of SkipAfter")
			}
			continue
		}
		if tx.Skip > 0 {
			tx.Skip--
			// Skipping rule
			continue
		}
		// A marker has no operator and no actions: it is only a target
		// for skipAfter, found above, and counts for skip:N as in v3.8.1.
		// Evaluating it as a SecAction built a match record and set
		// MATCHED_VAR to nothing on every phase (ModSecurity leaves
		// MATCHED_VAR alone at a marker).
		if r.SecMark_ != "" {
			continue
		}
		switch tx.AllowType {
		case corazatypes.AllowTypeUnset:
			// No action needed
		case corazatypes.AllowTypePhase:
			// Allow phase requires skipping all rules of the current phase.
			// It is done by breaking the loop and resetting AllowType for the next phase right after the loop.
			tx.DebugLogger().Debug().
				Int("phase", int(phase)).
				Msg("Skipping phase because of allow phase action")
			break RulesLoop
		case corazatypes.AllowTypeRequest:
			// Allow request requires skipping all rules of any request phase.
			// It is done by breaking the loop only if in a request phase (1 or 2)
			// and resetting AllowType once the request phases are over (after request body phase)
			tx.DebugLogger().Debug().
				Int("phase", int(phase)).
				Msg("Skipping phase because of allow request action")
			if phase == types.PhaseRequestHeaders {
				// tx.AllowType is not resetted because another request phase might be called
				break RulesLoop
			}
			if phase == types.PhaseRequestBody {
				// // tx.AllowType is resetted, currently PhaseRequestBody is the last request phase
				tx.AllowType = corazatypes.AllowTypeUnset
				break RulesLoop
			}
		case corazatypes.AllowTypeAll:
			break RulesLoop
		}
		// Reset matched_vars only when the previous rule actually populated it.
		// In typical CRS evaluation most rules don't match, so this avoids
		// iterating an empty map on every rule.
		if tx.variables.matchedVars.Len() > 0 {
			tx.variables.matchedVars.Reset()
		}

		r.Evaluate(phase, tx, transformationCache)
		tx.Capture = false // we reset captures
		usedRules++
	}
	tx.DebugLogger().Debug().
		Int("phase", int(phase)).
		Msg("Finished phase")

	// Reset AllowType if meant to allow only this specific phase. It is particuarly needed
	// to reset it at this point, in case of an allow:phase action enforced by the last rule of the phase.
	// In this case, allow:phase must not have any impact on the next phase.
	if tx.AllowType == corazatypes.AllowTypePhase {
		tx.AllowType = corazatypes.AllowTypeUnset
	}
	// Reset Skip counter at the end of each phase. Skip actions work only within the current processing phase
	tx.Skip = 0

	tx.stopWatches[phase] = time.Now().UnixNano() - ts
	return tx.IsInterrupted()
}

// NewRuleGroup creates an empty RuleGroup that
// can be attached to a WAF instance
// You might use this function to replace the rules
// and "reload" the WAF
func NewRuleGroup() RuleGroup {
	return RuleGroup{}
}

// transformationCache holds, for the phase being evaluated, the transformed
// forms of each value: one entry per value, identified by the value itself
// (the address and length of its bytes), with the result of every
// transformation-chain prefix computed on it. Transformations depend on the
// value only, so one entry serves every rule and every variable holding
// that value. (Keyed by the argument's key and its position in the rule's
// value list, as in v3.8.1, the cache missed whenever two rules saw the
// values in a different order, which map iteration makes the rule.) The
// same address and length is the same content: strings are immutable, and
// the entry keeps the value alive (cachedValue.orig), so its memory cannot
// be reused for another value while the entry exists.
//
// A value's entry is found through the match data holding it
// (MatchData.CacheSlot_, checked against the entry's value) and otherwise
// through one map look-up: the match data of collections that cannot
// change during a phase are shared by the phase's rules (fieldCache), so
// most rules find their values' entries without hashing. A value holds a
// handful of chain prefixes: they are searched linearly. Emptied at every
// phase; the slices are kept for the next phase and transaction.
type transformationCache struct {
	slots  map[transformationKey]int32 // value → index in values
	values []cachedValue
}

// transformationKey identifies a value by the address and length of its
// bytes (see transformationCache). A pointer and not the string, to keep
// hashing cheap.
type transformationKey struct {
	value  *byte
	length int
}

type cachedValue struct {
	orig  string
	steps []cachedStep
}

// cachedStep is the value after the transformation-chain prefix id, and
// whether its last transformation changed it (what a multiMatch rule
// evaluates).
type cachedStep struct {
	id      int
	arg     string
	errs    []error
	changed bool
}

// step returns the index of the chain prefix id's step in v.steps, or -1:
// a value holds a handful, searched linearly.
func (v *cachedValue) step(id int) int {
	for j := range v.steps {
		if v.steps[j].id == id {
			return j
		}
	}
	return -1
}

// reset empties the cache, dropping its references to values.
func (c *transformationCache) reset() {
	clear(c.slots)
	for i := range c.values {
		v := &c.values[i]
		v.orig = ""
		clear(v.steps)
		v.steps = v.steps[:0]
	}
	c.values = c.values[:0]
}

// entry returns the entry of value v, held by md when md is not nil.
func (c *transformationCache) entry(md *corazarules.MatchData, v string) *cachedValue {
	p := unsafe.StringData(v)
	if md != nil {
		if i := int(md.CacheSlot_) - 1; i >= 0 && i < len(c.values) {
			if e := &c.values[i]; unsafe.StringData(e.orig) == p && len(e.orig) == len(v) {
				return e
			}
		}
	}
	if c.slots == nil {
		c.slots = map[transformationKey]int32{}
	}
	k := transformationKey{value: p, length: len(v)}
	i, ok := c.slots[k]
	if !ok {
		i = int32(len(c.values))
		if len(c.values) < cap(c.values) {
			c.values = c.values[:i+1]
		} else {
			c.values = append(c.values, cachedValue{})
		}
		c.values[i].orig = v
		c.slots[k] = i
	}
	if md != nil {
		md.CacheSlot_ = i + 1
	}
	return &c.values[i]
}
