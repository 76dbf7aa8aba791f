import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { UserEntity } from '../../accounts';

export const RENDER_STATUSES = ['pending', 'done', 'failed'] as const;
export type RenderStatus = (typeof RENDER_STATUSES)[number];

@Entity({ name: 'articles' })
export class ArticleEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'author_id' })
  author?: UserEntity;

  @Column({ type: 'varchar', length: 200 })
  title: string;

  @Column({ type: 'text' })
  body: string;

  /** Bumped on every body change, so a render job for an older body can tell it is stale. */
  @Column({ type: 'integer', default: 1 })
  revision: number;

  @Column({ name: 'render_status', type: 'text', default: 'pending' })
  renderStatus: RenderStatus;

  @Column({ name: 'rendered_revision', type: 'integer', nullable: true })
  renderedRevision: number | null;

  @Column({ name: 'rendered_html', type: 'text', nullable: true })
  renderedHtml: string | null;

  @Column({ name: 'reading_time_minutes', type: 'integer', nullable: true })
  readingTimeMinutes: number | null;

  @Column({ name: 'render_error', type: 'text', nullable: true })
  renderError: string | null;

  @Column({ name: 'rendered_at', type: 'timestamptz', precision: 3, nullable: true })
  renderedAt: Date | null;

  /** The job that renders the current revision (GET /jobs/:id). */
  @Column({ name: 'render_job_id', type: 'uuid', nullable: true })
  renderJobId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
