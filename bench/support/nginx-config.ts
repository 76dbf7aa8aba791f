/** A minimal round-robin reverse proxy with upstream keep-alive: nginx as a load balancer is usually set up. */
export function nginxConfig(opts: {
  port: number;
  upstreams: readonly string[];
  prefix: string;
  workers: number;
}): string {
  return `
worker_processes ${opts.workers};
daemon off;
master_process on;
pid ${opts.prefix}/nginx.pid;
error_log ${opts.prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${opts.prefix}/body;
  proxy_temp_path ${opts.prefix}/proxy;
  fastcgi_temp_path ${opts.prefix}/fastcgi;
  uwsgi_temp_path ${opts.prefix}/uwsgi;
  scgi_temp_path ${opts.prefix}/scgi;
  keepalive_timeout 65s;
  upstream api {
${opts.upstreams.map((u) => `    server ${u.replace(/^http:\/\//, '')};`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${opts.port};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`;
}
