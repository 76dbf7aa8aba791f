import { OptionalBodyField, OptionalTitleField } from './article-fields';

/** A partial update: send title, body, or both. */
export class UpdateArticleDto {
  @OptionalTitleField()
  title?: string;

  @OptionalBodyField()
  body?: string;
}
