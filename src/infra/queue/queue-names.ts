/** Every queue of the system: the dashboard, the depth metrics and the job lookup iterate this list. */
export const RENDER_QUEUE = 'render';

export const QUEUE_NAMES = [RENDER_QUEUE] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}
