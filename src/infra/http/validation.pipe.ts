import { type ArgumentMetadata, BadRequestException, Injectable, ValidationPipe } from '@nestjs/common';

// JSON may spell half a surrogate pair (\ud800). validator's isEmail/isURL pass such text to encodeURI, which
// throws (a 500), and PostgreSQL would store it as U+FFFD (silently changed data): refuse it first, naming the field.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The path of the first string inside `value` that is not well-formed Unicode, if any. */
function malformedText(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = malformedText(item, path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Rejects unknown fields and wrong types with a 400 whose message names each field (one message per
 * field), a JSON body that is not an object (null, an array, a bare string) with a message saying so, and text
 * that is not well-formed Unicode.
 */
@Injectable()
export class RequestValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      stopAtFirstError: true,
      validationError: { target: false, value: false },
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      metadata.type === 'body' &&
      metadata.metatype &&
      (typeof value !== 'object' || value === null || Array.isArray(value))
    ) {
      throw new BadRequestException('request body must be a JSON object');
    }
    const malformed = malformedText(value, metadata.type === 'body' ? '' : (metadata.data ?? metadata.type));
    if (malformed !== undefined)
      throw new BadRequestException(
        `${malformed || metadata.type} must be well-formed Unicode text (it holds half a surrogate pair)`,
      );
    return super.transform(value, metadata);
  }
}
