// The batching decision as a pure function of (queue, now): no timers, no I/O,
// so it is tested on plain data. The batcher (batcher.ts) owns the timers and
// calls this whenever a model instance is free.
//
// Semantics follow Triton's dynamic batcher (docs/protocol.md "Batching"),
// summarised:
//   - walk the queue in order (the caller orders it: priority, then arrival),
//     adding each item's batch size to the pending batch;
//   - stop before an item that would take the pending batch past maxBatchSize,
//     or whose shapeKey differs from the first item's: send what is pending now;
//   - remember the largest preferred size the walk lands on exactly; if growing
//     further would pass the largest preferred size without landing on one,
//     remember the size just before that instead (waiting cannot help);
//   - a remembered size is sent at once unless the oldest pending item has
//     already waited maxQueueDelayUs: then everything pending goes, because
//     the delay bounds latency and a bigger batch costs nothing more;
//   - a pending batch at or past the largest preferred size is sent at once;
//   - otherwise wait until the oldest pending item reaches maxQueueDelayUs
//     (delay 0: send what is pending now).
// With no preferred sizes, Triton's config normaliser uses [max_batch_size];
// so do we.

export interface QueuedItem {
  batchSize: number; // the request's first dimension; counted as at least 1
  shapeKey: string; // items batch together only when their keys are equal
  enqueuedAtUs: number;
}

export interface BatchPolicyConfig {
  maxBatchSize: number; // 0: the model does not batch, each request runs alone
  preferredBatchSizes: readonly number[]; // empty: aim for maxBatchSize
  maxQueueDelayUs: number; // 0: never wait for more requests
}

export type BatchDecision =
  | { kind: 'send'; count: number } // send the first `count` queued items as one batch now
  | { kind: 'wait'; delayUs: number } // nothing to send yet; look again in delayUs (> 0)
  | { kind: 'idle' }; // the queue is empty

// Who checks oversized requests: the caller must not queue an item whose
// batchSize exceeds maxBatchSize (the model manager answers INVALID_SHAPE and
// DynamicBatcher.submit re-checks). If one slips through anyway it is sent
// alone, so the queue never stalls.
export function decideBatch(queue: readonly QueuedItem[], nowUs: number, config: BatchPolicyConfig): BatchDecision {
  if (queue.length === 0) return { kind: 'idle' };
  const { maxBatchSize, maxQueueDelayUs } = config;
  if (maxBatchSize <= 0) return { kind: 'send', count: 1 };

  const preferred = reachablePreferredSizes(config);
  const maxPreferred = Math.max(...preferred);
  const firstShapeKey = queue[0].shapeKey;

  let pendingSize = 0;
  let count = 0;
  let bestCount = 0; // items in the batch to send at once, if any was found
  let mustSendNow = false;
  let oldestUs = Infinity; // the first item is not the oldest across priority levels

  for (const item of queue) {
    const size = Math.max(1, item.batchSize);
    if (count > 0) {
      if (bestCount === 0 && pendingSize + size > maxPreferred) bestCount = count;
      if (pendingSize + size > maxBatchSize || item.shapeKey !== firstShapeKey) {
        mustSendNow = true;
        break;
      }
    }
    pendingSize += size;
    count += 1;
    if (item.enqueuedAtUs < oldestUs) oldestUs = item.enqueuedAtUs;
    if (preferred.includes(pendingSize)) bestCount = count;
  }

  const waitedUs = nowUs - oldestUs;
  const delayExpired = maxQueueDelayUs > 0 && waitedUs >= maxQueueDelayUs;

  if (bestCount > 0 && !delayExpired) return { kind: 'send', count: bestCount };
  if (mustSendNow || pendingSize >= maxPreferred || maxQueueDelayUs === 0 || delayExpired) {
    return { kind: 'send', count };
  }
  return { kind: 'wait', delayUs: maxQueueDelayUs - waitedUs };
}

// Preferred sizes above maxBatchSize can never be formed; none left means
// "aim for maxBatchSize".
function reachablePreferredSizes(config: BatchPolicyConfig): number[] {
  const sizes = config.preferredBatchSizes.filter((n) => n >= 1 && n <= config.maxBatchSize);
  return sizes.length > 0 ? sizes : [config.maxBatchSize];
}
