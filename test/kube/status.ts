// Kubernetes `Status` error bodies, shaped exactly as k8s.io/apimachinery/pkg/api/errors builds them
// (reason strings, message wording, details). Every non-2xx answer of the test API server is one of
// these, so a client sees what a real kube-apiserver would send.
import type { ResourceDef } from './resources.js';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

/** A Status carried as an exception through the request handler. */
export class ApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
  }
  get code(): number {
    return this.status.code;
  }
}

export function statusBody(code: number, reason: string, message: string, details?: StatusBody['details']): StatusBody {
  // Field order as the Go encoder writes it (details before code).
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** "pods" for the core group, "leases.coordination.k8s.io" otherwise (GroupResource.String()). */
export function qualified(def: Pick<ResourceDef, 'group' | 'resource'>): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource;
}

function details(def: Pick<ResourceDef, 'group' | 'resource'>, name?: string): NonNullable<StatusBody['details']> {
  const d: NonNullable<StatusBody['details']> = {};
  if (name) d.name = name;
  if (def.group) d.group = def.group;
  d.kind = def.resource;
  return d;
}

export const errors = {
  notFound(def: Pick<ResourceDef, 'group' | 'resource'>, name: string): ApiError {
    return new ApiError(statusBody(404, 'NotFound', `${qualified(def)} "${name}" not found`, details(def, name)));
  },
  /** An unknown path (an absent CRD's group, a resource the server does not serve). */
  noResource(): ApiError {
    return new ApiError(statusBody(404, 'NotFound', 'the server could not find the requested resource', {}));
  },
  alreadyExists(def: Pick<ResourceDef, 'group' | 'resource'>, name: string): ApiError {
    return new ApiError(statusBody(409, 'AlreadyExists', `${qualified(def)} "${name}" already exists`, details(def, name)));
  },
  conflict(def: Pick<ResourceDef, 'group' | 'resource'>, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
    return new ApiError(statusBody(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(def)} "${name}": ${why}`, details(def, name)));
  },
  /**
   * responsewriters.ForbiddenStatusError: `pods "x" is forbidden: User "u" cannot patch resource "pods"
   * in API group "" in the namespace "ns"` (no name: `pods is forbidden: ...`; cluster scope: `at the cluster scope`).
   */
  forbidden(def: Pick<ResourceDef, 'group' | 'resource'>, name: string | undefined, user: string, verb: string, resource: string, namespace: string | undefined): ApiError {
    const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
    const subject = name ? `${qualified(def)} "${name}"` : qualified(def);
    const message = `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${def.group}" ${scope}`;
    return new ApiError(statusBody(403, 'Forbidden', message, details(def, name)));
  },
  unauthorized(): ApiError {
    return new ApiError(statusBody(401, 'Unauthorized', 'Unauthorized'));
  },
  badRequest(message: string): ApiError {
    return new ApiError(statusBody(400, 'BadRequest', message));
  },
  /** errors.NewInvalid: `Pod "x" is invalid: metadata.name: Required value: ...` */
  invalid(kind: string, group: string, name: string, causes: { field: string; type: string; detail: string }[]): ApiError {
    const parts = causes.map((c) => `${c.field}: ${c.type}: ${c.detail}`);
    const message = `${kind} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`;
    const d: NonNullable<StatusBody['details']> = { name };
    if (group) d.group = group;
    d.kind = kind;
    d.causes = causes.map((c) => ({ reason: `Field${c.type.replace(/ /g, '')}`, message: `${c.type}: ${c.detail}`, field: c.field }));
    return new ApiError(statusBody(422, 'Invalid', message, d));
  },
  /** A JSON Patch that cannot be applied (failed `test`, missing path): NewGenericServerResponse(422, ...). */
  patchUnprocessable(): ApiError {
    return new ApiError(statusBody(422, 'Invalid', 'the server rejected our request due to an error in our request', {}));
  },
  unsupportedMediaType(accepted: readonly string[]): ApiError {
    return new ApiError(
      statusBody(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`),
    );
  },
  notAcceptable(accepted: readonly string[]): ApiError {
    return new ApiError(statusBody(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`));
  },
  methodNotAllowed(): ApiError {
    return new ApiError(statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}));
  },
  /** errors.NewResourceExpired (reason Expired, code 410): what the watch cache answers for a compacted resourceVersion. */
  expired(message: string): ApiError {
    return new ApiError(statusBody(410, 'Expired', message));
  },
  /** errors.NewServiceUnavailable: the service proxy with no endpoint to send to. */
  serviceUnavailable(message: string): ApiError {
    return new ApiError(statusBody(503, 'ServiceUnavailable', message));
  },
  internal(message: string): ApiError {
    return new ApiError(statusBody(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }));
  },
};

/** Default reason and message for an injected fault that only gives a status code (NewGenericServerResponse wording). */
export function genericStatus(code: number, reason?: string, message?: string): StatusBody {
  const table: Record<number, [string, string]> = {
    400: ['BadRequest', 'the server rejected our request for an unknown reason'],
    401: ['Unauthorized', 'Unauthorized'],
    403: ['Forbidden', 'forbidden'],
    404: ['NotFound', 'the server could not find the requested resource'],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    410: ['Expired', 'too old resource version'],
    415: ['UnsupportedMediaType', 'the body of the request was in an unknown format'],
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    500: ['InternalError', 'an error on the server has prevented the request from succeeding'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  const [r, m] = table[code] ?? [code >= 500 ? 'InternalError' : 'Unknown', `the server responded with the status code ${code} but did not return more information`];
  return statusBody(code, reason ?? r, message ?? m);
}
