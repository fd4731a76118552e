// The node's Kafka side (DESIGN §2, §8, docs/reference-node.md "Topics"): kafkajs with acks=all,
// its default partitioner (murmur2 of the key, as the Java client and aiokafka: a case's
// revisions land on one partition; test/vectors.test.ts checks it against the vectors),
// record timestamps coarsened to the hour, and no headers at all. The topics it reads
// (credential answers, receipts, CSP summaries) are read from the beginning by a consumer of
// its own, and each record is handed to whoever waits for its key.

import { Consumer, Kafka, Partitioners, Producer, logLevel } from "kafkajs";

export const CREDENTIAL_REQUESTS_TOPIC = "dief.credentials.requests";
export const CREDENTIAL_ANSWERS_TOPIC = "dief.credentials.answers";
export const RECEIPTS_TOPIC = "dief.receipts";
export const CSP_TOPIC = "csp.reporting";

export function casesTopic(region: string): string {
  return `dief.${region.toLowerCase()}.cases`;
}

/** Now, coarsened to the hour (every record's timestamp, DESIGN §3). */
export function hourStamp(now = Date.now()): string {
  return String(Math.floor(now / 3_600_000) * 3_600_000);
}

export interface Inbound {
  topic: string;
  key: string | null;
  value: Uint8Array | null;
}

type Waiter = (record: Inbound) => boolean;

export class Bus {
  readonly #kafka: Kafka;
  #producer: Producer | undefined;
  #consumer: Consumer | undefined;
  readonly #seen: Inbound[] = [];
  readonly #waiters = new Set<Waiter>();

  constructor(bootstrap: string, clientId = "dief-reference-node") {
    this.#kafka = new Kafka({
      clientId,
      brokers: bootstrap.split(","),
      logLevel: logLevel.ERROR,
      retry: { retries: 8 },
    });
  }

  async connect(topics: string[]): Promise<void> {
    this.#producer = this.#kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    await this.#producer.connect();
    // A group of its own, read from the beginning: the node keeps no offsets between runs.
    const consumer = this.#kafka.consumer({ groupId: `dief-reference-node-${crypto.randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const record: Inbound = {
          topic,
          key: message.key === null ? null : message.key.toString("utf-8"),
          value: message.value === null ? null : new Uint8Array(message.value),
        };
        this.#seen.push(record);
        for (const waiter of [...this.#waiters]) if (waiter(record)) this.#waiters.delete(waiter);
      },
    });
    this.#consumer = consumer;
  }

  /** Publish one record (acks=all), keyed, hour-coarsened timestamp, no headers. */
  async send(topic: string, key: string, value: Uint8Array): Promise<void> {
    if (this.#producer === undefined) throw new Error("not connected");
    await this.#producer.send({
      topic,
      acks: -1,
      messages: [{ key, value: Buffer.from(value), timestamp: hourStamp() }],
    });
  }

  /** The records seen so far, then every later one, passed to *take* until it returns true
   * (or *timeoutMs* passes: rejected). */
  async until(take: (record: Inbound) => boolean, timeoutMs: number, what: string): Promise<void> {
    for (const record of this.#seen) if (take(record)) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${what}: not within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const waiter: Waiter = (record) => {
        if (!take(record)) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      this.#waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    await this.#consumer?.disconnect();
    await this.#producer?.disconnect();
  }
}
