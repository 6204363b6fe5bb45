import mqtt from 'mqtt';

/** Publishes pre-built messages at QoS 1 with 500 in flight, like a busy gateway fleet; stops when all are acknowledged. */
export async function publishFleet(url: string, messages: { topic: string; body: string }[], clientId = `bench-pub-${process.pid}`): Promise<void> {
  const pub = await mqtt.connectAsync(url, { clientId });
  const window: Promise<unknown>[] = [];
  for (const m of messages) {
    window.push(pub.publishAsync(m.topic, m.body, { qos: 1 }));
    if (window.length >= 500) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  await pub.endAsync();
}
