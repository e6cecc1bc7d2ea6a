export {
  POLICY_RULES,
  PolicyError,
  compilePolicy,
  describePolicy,
  evaluatePolicy,
  paramText,
  stateMatches,
  type Policy,
  type PolicyErrorReason,
  type PolicyRule,
  type PolicySpec,
  type PolicySubject,
} from './rules.js';
export { PolicyEngine, PolicySet, recordLookup, type PolicyDenial, type PolicyLimits, type PolicyScope } from './policy-engine.js';
export { DEFAULT_POLICY_FILE_MAX_BYTES, FilePolicySet, PolicyFileError, loadPolicyDir, parsePolicyFile, readPolicyDir, type FileRule, type PolicyDirRules } from './file-policies.js';
