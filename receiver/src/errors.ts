// receiver/src/errors.ts
// Every error execscope raises on purpose, each with a stable machine-readable code (listed in docs/errors.md).

export class ExecscopeError extends Error {
  override name = 'ExecscopeError';
  readonly code: string = 'ERR_EXECSCOPE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A flag, environment variable or config value is invalid; the message names the value. */
export class ConfigError extends ExecscopeError {
  override name = 'ConfigError';
  override readonly code = 'ERR_CONFIG_INVALID';
}

/** The command line itself is wrong (unknown flag, missing value); exit code 2. */
export class UsageError extends ExecscopeError {
  override name = 'UsageError';
  override readonly code = 'ERR_USAGE';
}

/** The agent needs root (or CAP_BPF + CAP_PERFMON) and does not have it. */
export class NotPrivilegedError extends ExecscopeError {
  override name = 'NotPrivilegedError';
  override readonly code = 'ERR_NOT_PRIVILEGED';
}

/** The native addon or the BPF object could not be found or loaded. */
export class NativeBindingError extends ExecscopeError {
  override name = 'NativeBindingError';
  override readonly code = 'ERR_NATIVE_MISSING';
}

/** libbpf refused to open, load or attach the BPF programs. */
export class BpfLoadError extends ExecscopeError {
  override name = 'BpfLoadError';
  override readonly code = 'ERR_BPF_LOAD';
  constructor(
    message: string,
    /** Positive errno from libbpf's negative return value. */
    readonly errno: number,
    /** Which step failed: open, load, attach, ringbuf. */
    readonly stage: string,
    /** The tail of the verifier log, when the kernel produced one. */
    readonly verifierLog: string,
  ) {
    super(message);
  }
}

/** A kernel record could not be decoded; counted and skipped, never thrown out of a batch. */
export class RecordDecodeError extends ExecscopeError {
  override name = 'RecordDecodeError';
  override readonly code = 'ERR_RECORD_DECODE';
  constructor(
    message: string,
    readonly kind: number,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** An allow/deny list, field filter or redaction filter is invalid. */
export class FilterError extends ExecscopeError {
  override name = 'FilterError';
  override readonly code = 'ERR_FILTER_INVALID';
}

/** An export (file, OTLP) failed. */
export class ExportError extends ExecscopeError {
  override name = 'ExportError';
  override readonly code = 'ERR_EXPORT';
}

/** The Kubernetes API could not be reached or answered with an error. */
export class KubernetesError extends ExecscopeError {
  override name = 'KubernetesError';
  override readonly code = 'ERR_K8S';
}

/** Narrows an unknown thrown value to a message. */
export function getErrorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Narrows an unknown thrown value to a Node/execscope error code, if any. */
export function getErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
