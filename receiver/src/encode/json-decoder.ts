// receiver/src/encode/json-decoder.ts
// Reads Tetragon JSON event lines back (snake_case or lowerCamelCase keys), for `getevents` on stdin.

import { getErrorMessage } from '../errors.js';
import type { ExecscopeEvent } from '../model/events.js';
import { parseProtoJson } from '../proto/from-json.js';
import { fromProtoResponse } from '../proto/from-proto.js';
import type { GetEventsResponseMsg } from '../proto/messages.js';

/**
 * Parses one JSON line into a GetEventsResponse plain object, ignoring unknown keys (tetra's DiscardUnknown).
 * Returns an error message instead of throwing for lines that are not a valid event.
 */
export function decodeResponseJson(line: string): GetEventsResponseMsg | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error: unknown) {
    return { error: `not JSON: ${getErrorMessage(error)}` };
  }
  try {
    return parseProtoJson('GetEventsResponse', value, { strict: false }) as GetEventsResponseMsg;
  } catch (error: unknown) {
    return { error: getErrorMessage(error) };
  }
}

/**
 * The event of one JSON line, or undefined when the line is not JSON, does not fit the schema, or holds an
 * event type execscope does not model. Fields absent from the line get neutral defaults (0, "", epoch);
 * internal-only model fields (argv, cgroupPath, …) are empty, ppid comes from the parent and ktime from exec_id.
 */
export function decodeEventJson(line: string): ExecscopeEvent | undefined {
  const response = decodeResponseJson(line);
  if ('error' in response) return undefined;
  return fromProtoResponse(response);
}
