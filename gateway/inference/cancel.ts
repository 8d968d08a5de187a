// A cancellation signal for one request, lighter than AbortController (which
// costs an EventTarget and listener bookkeeping per request on the hot
// path). The front end owns the Cancellation and calls cancel() when its
// caller goes away; whoever holds the request's work (the body reader, the
// batcher) subscribes and unsubscribes as the request moves on.

export interface CancelListener {
  onCancel(reason: string): void;
}

export interface CancelSignal {
  readonly cancelled: boolean;
  subscribe(listener: CancelListener): void;
  unsubscribe(listener: CancelListener): void;
}

export class Cancellation implements CancelSignal {
  private cancelledFlag = false;
  // Usually one or two listeners at a time: a small array, no Set.
  private listeners: CancelListener[] | null = null;

  get cancelled(): boolean {
    return this.cancelledFlag;
  }

  subscribe(listener: CancelListener): void {
    if (this.cancelledFlag) return;
    (this.listeners ??= []).push(listener);
  }

  unsubscribe(listener: CancelListener): void {
    const list = this.listeners;
    if (!list) return;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
  }

  // Tells every listener once; later calls do nothing.
  cancel(reason: string): void {
    if (this.cancelledFlag) return;
    this.cancelledFlag = true;
    const list = this.listeners;
    this.listeners = null;
    if (list) for (const listener of list) listener.onCancel(reason);
  }
}
