/**
 * `@slipway/release`: release strategies as pure transformations of a deployment's desired
 * state. Each takes the current `registry.Deployment` (undefined when it does not exist) and
 * returns the next desired state for `ApplyDeployment`, or throws a typed error:
 * InvalidArgumentError for bad options, FailedPreconditionError when the current state does not
 * allow the step, NotFoundError when a deployment is needed but absent. No I/O.
 */
export {
  abortCanary,
  advanceCanary,
  deployBlueGreen,
  deployCanary,
  deployDirect,
  promote,
  rollback,
  setCanaryWeight,
  startExperiment,
  startShadow,
  stopExperiment,
  stopShadow,
  type BlueGreenOptions,
  type CanaryOptions,
  type DirectOptions,
  type ExperimentArm,
  type ExperimentOptions,
  type ShadowOptions,
  type StopExperimentOptions,
} from './transitions.js';
export {
  VARIANT_NAMES,
  canaryStepIndex,
  findVariant,
  formatVersion,
  roleLabel,
  sameVersion,
  strategyLabel,
  variantsWithRole,
  type VersionRef,
} from './variants.js';
export {
  assignmentBucket,
  chooseVariant,
  liveVariants,
  shadowsFor,
  variantForVersion,
  type ChoiceInputs,
  type VariantChoice,
} from './select.js';
