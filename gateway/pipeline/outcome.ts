// How a call ended, as every pipeline step sees it (protocol-neutral).
import type { MaasError } from '../../common/errors';

export interface CallOutcome {
  error: MaasError | null; // null: success
  clientGone: boolean; // the caller went away before the answer
  inferences: number; // batch size served (0 unless an inference succeeded)
}
