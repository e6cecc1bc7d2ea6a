export { TIERS, DEFAULT_TIER, isTier, compareTiers, type Tier } from './tiers.js';
export {
  classifyAction,
  classifyProposal,
  maxTier,
  nameSegments,
  isCredentialKey,
  type ActionClassification,
  type ProposalClassification,
  type ClassifyOptions,
  type ToolLookup,
} from './classifier.js';
export { actionFingerprint, isFingerprint, type FingerprintInput } from './fingerprint.js';
export { ApprovalLedger, type ApprovalRecord, type ApprovalInput, type ApprovalDecision } from './ledger.js';
export {
  evaluateAction,
  evaluateProposal,
  effectiveTier,
  approvalCovers,
  type PermissionDecisionRow,
  type PermissionVerdict,
  type PermissionEvaluation,
  type EvaluateOptions,
  type ApprovalLookup,
} from './evaluate.js';
export {
  checkProposalPermissions,
  permissionDeniedMessage,
  rejectedResults,
  permissionDenied,
  PermissionDeniedError,
  type PermissionCheck,
  type BlockedAction,
  type GateOptions,
  type RejectedResult,
} from './gate.js';
