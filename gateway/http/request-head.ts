// Reads the headers the front end needs from a request in one pass over all
// of them (uWS's forEach: getHeader would only ever see the first of a
// repeated header), and checks the framing uWS leaves to us. What uWS itself
// refuses or cannot parse never reaches this (docs/http.md).
import { bearerToken } from '../pipeline/auth';
import type { HttpRequest } from './uws';

// Why a request must be refused and its connection closed (MALFORMED_HTTP):
// after such a request, the next bytes on the connection cannot be trusted
// to start a request (RFC 9112 6.3, 11.2).
export type FramingError =
  | 'conflicting_content_length' // several Content-Length values (uWS would use the first)
  | 'invalid_content_length' // not 1 to 9 digits (uWS closes the connection after the handler)
  | 'bad_transfer_encoding' // a Transfer-Encoding whose last coding is not chunked
  | 'duplicate_host'; // more than one Host

export const FRAMING_MESSAGES: Record<FramingError, string> = {
  conflicting_content_length: 'the request has several Content-Length headers with different values',
  invalid_content_length: 'the Content-Length is not a number of at most 9 digits',
  bad_transfer_encoding: 'the Transfer-Encoding does not end with chunked',
  duplicate_host: 'the request has more than one Host header',
};

export interface RequestHead {
  requestId: string; // x-request-id, '' when absent
  contentLength: string; // '' when absent
  contentType: string; // '' when absent
  transferEncoding: string;
  contentEncoding: string;
  acceptEncoding: string;
  inferenceHeaderLength: string; // Inference-Header-Content-Length
  authorization: string; // the raw header (the auth step reads it; never logged)
  apiKey: string; // x-api-key, '' when absent (an API key without the Bearer scheme; never logged)
  traceparent: string;
  tracestate: string;
  framingError: FramingError | null;
}

// One object for every request: the handler reads it synchronously, before
// the next request can be parsed.
const head: RequestHead = {
  requestId: '',
  contentLength: '',
  contentType: '',
  transferEncoding: '',
  contentEncoding: '',
  acceptEncoding: '',
  inferenceHeaderLength: '',
  authorization: '',
  apiKey: '',
  traceparent: '',
  tracestate: '',
  framingError: null,
};
let contentLengths = 0;
let conflictingLengths = false;
let hosts = 0;

// uWS hands keys in lower case.
function onHeader(key: string, value: string): void {
  switch (key) {
    case 'content-length':
      if (contentLengths++ > 0 && value !== head.contentLength) conflictingLengths = true;
      else head.contentLength = value;
      return;
    case 'host':
      hosts++;
      return;
    case 'content-type':
      if (head.contentType === '') head.contentType = value;
      return;
    case 'x-request-id':
      if (head.requestId === '') head.requestId = value;
      return;
    case 'transfer-encoding':
      head.transferEncoding = head.transferEncoding === '' ? value : `${head.transferEncoding}, ${value}`;
      return;
    case 'content-encoding':
      if (head.contentEncoding === '') head.contentEncoding = value;
      return;
    case 'accept-encoding':
      if (head.acceptEncoding === '') head.acceptEncoding = value;
      return;
    case 'inference-header-content-length':
      if (head.inferenceHeaderLength === '') head.inferenceHeaderLength = value;
      return;
    case 'authorization':
      if (head.authorization === '') head.authorization = value;
      return;
    case 'x-api-key':
      if (head.apiKey === '') head.apiKey = value;
      return;
    case 'traceparent':
      if (head.traceparent === '') head.traceparent = value;
      return;
    case 'tracestate':
      if (head.tracestate === '') head.tracestate = value;
      return;
    default:
  }
}

function isContentLength(value: string): boolean {
  if (value.length === 0 || value.length > 9) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

// The request's head, valid until the next call.
export function readRequestHead(req: HttpRequest): RequestHead {
  head.requestId = head.contentLength = head.contentType = head.transferEncoding = head.contentEncoding = '';
  head.acceptEncoding = head.inferenceHeaderLength = head.authorization = head.apiKey = '';
  head.traceparent = head.tracestate = '';
  head.framingError = null;
  contentLengths = hosts = 0;
  conflictingLengths = false;
  req.forEach(onHeader);
  if (conflictingLengths) head.framingError = 'conflicting_content_length';
  else if (head.contentLength !== '' && !isContentLength(head.contentLength))
    head.framingError = 'invalid_content_length';
  else if (head.transferEncoding !== '' && !/(^|,)\s*chunked\s*$/i.test(head.transferEncoding))
    head.framingError = 'bad_transfer_encoding';
  else if (hosts > 1) head.framingError = 'duplicate_host';
  return head;
}

// The credentials of a request: the token of an `Authorization: Bearer <token>`
// header, else an `x-api-key` header; null when neither (the auth step decides
// what that means).
export function credentials(h: RequestHead): string | null {
  return bearerToken(h.authorization) ?? (h.apiKey === '' ? null : h.apiKey.trim() || null);
}
