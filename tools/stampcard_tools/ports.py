"""A free TCP port on 127.0.0.1 (the kernel's choice; free when asked, not reserved).

  python3 -m stampcard_tools.ports     prints one
"""
import socket


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    print(free_port())
