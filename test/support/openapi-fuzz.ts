import fc from 'fast-check';

/** The parts of an OpenAPI 3 document the fuzzer reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface Operation {
  parameters?: Array<{ name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  example?: unknown;
  allOf?: Schema[];
}

export interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** Which shape of input this is, for reading a counterexample. */
  readonly kind: string;
}

export interface Endpoint {
  readonly method: string;
  readonly template: string;
  readonly operation: Operation;
}

export function endpointsOf(doc: OpenApiDocument): Endpoint[] {
  return Object.entries(doc.paths).flatMap(([template, ops]) =>
    Object.entries(ops)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), template, operation })),
  );
}

// Values that break naive code: wrong types, boundaries, encodings, injection-looking text, prototype keys.
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'null',
    'undefined',
    "' OR '1'='1",
    '"; DROP TABLE users; --',
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '%00',
    '%E0%A4%A',
    '\u202e\u200b\ufeff',
    '\ud800',
    '{{7*7}}',
    '${jndi:ldap://x}',
    '__proto__',
    'constructor',
  ),
  fc.constantFrom('x'.repeat(201), 'y'.repeat(100_001), '\u{1F600}'.repeat(5000)),
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, -1, 1, 2 ** 31, -(2 ** 31), 2 ** 53 + 1, 1e308, -1e308, 0.5, Number.MIN_VALUE),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'a', '$where', 'toString'), hostileString, { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 4 }),
);

export class SchemaArbitraries {
  constructor(private readonly doc: OpenApiDocument) {}

  resolve(schema: Schema | undefined): Schema {
    if (!schema) return {};
    if (schema.$ref) return this.resolve(this.doc.components?.schemas?.[schema.$ref.split('/').at(-1)!]);
    if (schema.allOf?.length === 1) return this.resolve(schema.allOf[0]);
    return schema;
  }

  /** A value the schema accepts, or close to its edges. */
  plausible(raw: Schema | undefined): fc.Arbitrary<unknown> {
    const s = this.resolve(raw);
    if (s.enum) return fc.constantFrom(...s.enum);
    const example = s.example === undefined ? [] : [fc.constant(s.example)];
    switch (s.type) {
      case 'string': {
        const min = s.minLength ?? 0;
        const max = s.maxLength ?? 64;
        const bySize = fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 200) });
        const edges = fc.constantFrom('a'.repeat(Math.max(min - 1, 0)), 'b'.repeat(max), 'c'.repeat(max + 1));
        const formatted =
          s.format === 'uuid'
            ? [fc.uuid()]
            : s.format === 'email'
              ? [fc.emailAddress()]
              : s.format === 'date-time'
                ? [fc.date().map((d) => (Number.isNaN(d.getTime()) ? '' : d.toISOString()))]
                : [];
        return fc.oneof(...example, ...formatted, bySize, edges);
      }
      case 'integer':
      case 'number': {
        const min = s.minimum ?? -1000;
        const max = s.maximum ?? 1000;
        return fc.oneof(...example, fc.integer({ min, max }), fc.constantFrom(min - 1, max + 1, min, max));
      }
      case 'boolean':
        return fc.boolean();
      case 'array':
        return fc.array(this.plausible(s.items), { maxLength: 3 });
      case 'object':
      default:
        return this.object(s);
    }
  }

  /** A JSON body: valid-looking, with one field broken, missing a required field, extra fields, or not an object at all. */
  body(raw: Schema | undefined): fc.Arbitrary<{ kind: string; value: unknown }> {
    const s = this.resolve(raw);
    const keys = Object.keys(s.properties ?? {});
    const valid = this.object(s);
    const tag = (kind: string) => (value: unknown) => ({ kind, value });
    const variants: Array<fc.Arbitrary<{ kind: string; value: unknown }>> = [
      valid.map(tag('plausible body')),
      valid.map(tag('plausible body')),
      valid.map(tag('plausible body')),
      fc
        .tuple(valid, hostileString, hostileValue)
        .map(([v, k, x]) => ({ kind: 'extra field', value: { ...(v as object), [k]: x } })),
      fc
        .oneof(hostileValue, fc.constant([]), fc.constant('string'), fc.constant(42))
        .map(tag('non-object or junk body')),
    ];
    if (keys.length) {
      variants.push(
        fc
          .tuple(valid, fc.constantFrom(...keys), hostileValue)
          .map(([v, k, x]) => ({ kind: `hostile ${k}`, value: { ...(v as object), [k]: x } })),
        fc.tuple(valid, fc.constantFrom(...keys)).map(([v, k]) => {
          const copy = { ...v };
          delete copy[k];
          return { kind: `missing ${k}`, value: copy };
        }),
      );
    }
    return fc.oneof(...variants);
  }

  private object(s: Schema): fc.Arbitrary<Record<string, unknown>> {
    const props = s.properties ?? {};
    const required = new Set(s.required ?? []);
    const entries = Object.entries(props).map(([k, v]) => [k, this.plausible(v)] as const);
    return fc.record(Object.fromEntries(entries), { requiredKeys: [...required].filter((k) => k in props) });
  }
}

/** Percent-encodes anything, lone surrogates included (encodeURIComponent throws on those). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const encode = (value: string): string => encodeURIComponent(value.replace(LONE_SURROGATE, '\ufffd'));

// Query strings no URL encoder would produce: bad escapes, array syntax, duplicates.
const rawQueries = fc.constantFrom(
  '?limit=%00',
  '?cursor=%E0%A4%A',
  '?limit[]=1',
  '?limit=1&limit=2',
  '?%%%=1',
  '?limit',
  '?=',
  '?cursor=' + 'A'.repeat(5000),
);

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
);

const rawBodies = fc.oneof(
  fc.constantFrom('{', '{"a":', 'nul', '[1,2', '{"title": "t", "title": "dup"}', '\u0000', '{"a":1}{"b":2}', ' '),
  fc.string({ unit: 'binary', maxLength: 100 }),
);

/**
 * Requests for one endpoint: path params, query, content type and body all fuzzed. `known` holds real
 * values by parameter name (existing ids, a real cursor), so the fuzzer also gets past validation.
 */
export function requestsFor(
  endpoint: Endpoint,
  arbs: SchemaArbitraries,
  known: Readonly<Record<string, readonly string[]>>,
): fc.Arbitrary<FuzzRequest> {
  const params = endpoint.operation.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const knownOr = (name: string, fallback: fc.Arbitrary<string>) =>
    known[name]?.length
      ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...known[name]) }, { weight: 3, arbitrary: fallback })
      : fallback;
  const idValue = fc.oneof(
    fc.constantFrom(...(known.id?.length ? known.id : ['00000000-0000-4000-8000-000000000000'])),
    fc.uuid(),
    hostileString.map((v) => encode(v).slice(0, 500)),
    fc.constantFrom('..%2F..%2Fetc%2Fpasswd', '%E0%A4%A', 'a'.repeat(300), '%20'),
  );
  const path = fc
    .tuple(...pathParams.map(() => idValue))
    .map((values) =>
      pathParams.reduce((p, param, i) => p.replace(`{${param.name}}`, String(values[i])), endpoint.template),
    );
  // URLs stay under Node's 16 KiB header limit, or most requests would only ever meet the 431 path.
  const urlSafe = hostileString.map((v) => v.slice(0, 2000));
  const queryValue = (schema?: Schema) =>
    fc.oneof(
      { weight: 3, arbitrary: arbs.plausible(schema).map((v) => String(v)) },
      { weight: 1, arbitrary: urlSafe },
      { weight: 1, arbitrary: hostileNumber.map(String) },
    );
  const unknownParam = fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.tuple(urlSafe, urlSafe) },
  );
  const encodedQuery = fc
    .tuple(
      ...queryParams.map((p) =>
        fc.option(knownOr(p.name, queryValue(p.schema)), { nil: undefined }).map((v) => [p.name, v] as const),
      ),
      unknownParam,
    )
    .map((pairs) => {
      const parts = pairs
        .flatMap((pair) =>
          pair && pair[1] !== undefined ? [`${encode(String(pair[0]))}=${encode(String(pair[1]))}`] : [],
        )
        .join('&');
      return parts ? `?${parts}` : '';
    });
  const query = fc.oneof({ weight: 9, arbitrary: encodedQuery }, { weight: 1, arbitrary: rawQueries });
  const bodySchema = endpoint.operation.requestBody?.content?.['application/json']?.schema;
  const body: fc.Arbitrary<{ kind: string; raw?: string; contentType?: string }> = ['GET', 'DELETE'].includes(
    endpoint.method,
  )
    ? fc.constant({ kind: 'no body' })
    : fc.oneof(
        {
          weight: 6,
          arbitrary: fc
            .tuple(arbs.body(bodySchema), contentTypes)
            .map(([b, ct]) => ({ kind: b.kind, raw: JSON.stringify(b.value) ?? 'null', contentType: ct })),
        },
        {
          weight: 1,
          arbitrary: rawBodies.map((raw) => ({ kind: 'malformed JSON', raw, contentType: 'application/json' })),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'no body' }) },
      );
  return fc.tuple(path, query, body).map(([p, q, b]): FuzzRequest => ({
    method: endpoint.method,
    path: p + q,
    headers: b.contentType ? { 'content-type': b.contentType } : {},
    body: b.raw,
    kind: b.kind,
  }));
}
