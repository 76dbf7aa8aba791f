import { BodyField, TitleField } from './article-fields';

export class CreateArticleDto {
  @TitleField()
  title: string;

  @BodyField()
  body: string;
}
