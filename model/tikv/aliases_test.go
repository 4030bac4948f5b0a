package tikv

import "github.com/snapsim/snapsim/model"

// The scenario language is model's; the tests name its parts as they did
// when it lived here.
type (
	Scenario      = model.Scenario
	ScenarioStep  = model.ScenarioStep
	Expectation   = model.Expectation
	ScriptReport  = model.ScriptReport
	StepNotRun    = model.StepNotRun
	ScenarioError = model.ScenarioError
)

const (
	StepRunUntil      = model.StepRunUntil
	StepRunSteps      = model.StepRunSteps
	StepRunIdle       = model.StepRunIdle
	StepHang          = model.StepHang
	StepStop          = model.StepStop
	ScopeScript       = model.ScopeScript
	ScopeTail         = model.ScopeTail
	ScopeAnytime      = model.ScopeAnytime
	DirectorActor     = model.DirectorActor
	DefaultStepBudget = model.DefaultStepBudget
)

var DetailNamesPath = model.DetailNamesPath
